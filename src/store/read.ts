// https://hl7.org/fhir/R4/http.html#read, #vread, #history — through the caller's access scope.
import type { Db } from '../repository/db';
import { lockCurrent, readCurrent, readHistory, readVersion, toStored, type HistoryPage, type HistoryQuery, type StoredVersion } from '../repository/resources';
import { patientsOfResource as patientsOfIndexedResource } from '../repository/compartment';
import { ANY_RESOURCE, readCurrentIfVisible, readVisible } from '../repository/search-query';
import type { Tx } from '../repository/transaction';
import { parseJson, stringifyJson } from '../shared/json';
import { typeAccessFilter } from './access/access-filter';
import type { AccessScope, TypeAccess } from './access/access-scope';
import { applyView } from './access/views';
import { patientCompartmentParams } from './search/definitions';
import { isStoredType, STORED_TYPES } from './stored-types';

/**
 * Reads of stored resources. Each takes the caller's access scope and applies it in the query:
 * a resource outside it is answered exactly like one that does not exist (undefined), so a read
 * can never be used to learn that it exists. A view (demographics) is applied to what is returned.
 */
type Executor = Db | Tx;

export type { StoredVersion };

function shown(version: StoredVersion, access: TypeAccess): StoredVersion {
  if (!access.view || version.content === null) return version;
  return { ...version, content: stringifyJson(applyView(access.view, parseJson(version.content) as Record<string, unknown>)) };
}

/** Whether the current resource is visible to `access` (used before reading its older versions). */
async function isVisible(db: Executor, type: string, id: string, access: TypeAccess): Promise<boolean> {
  if (!access.patientCompartment && !access.matchAny) return true;
  return (await readCurrentIfVisible(db, type, id, typeAccessFilter(access, type))) !== undefined;
}

/**
 * The current version (a deleted one too, with `deleted` set, when the caller may see it), or
 * undefined when it does not exist or is outside the scope.
 */
export async function readResource(db: Executor, scope: AccessScope, type: string, id: string): Promise<StoredVersion | undefined> {
  const access = scope.on(type, 'read');
  if (!access || !isStoredType(type)) return undefined;
  if (!access.patientCompartment && !access.matchAny) {
    const stored = await readCurrent(db, type, id);
    return stored && shown(stored, access);
  }
  const row = await readCurrentIfVisible(db, type, id, typeAccessFilter(access, type));
  return row && shown(toStored(row), access);
}

/** Current versions of several resources of one type, keyed by id: only those that exist and are visible. */
export async function readResources(db: Executor, scope: AccessScope, type: string, ids: readonly string[]): Promise<Map<string, StoredVersion>> {
  const out = new Map<string, StoredVersion>();
  const access = scope.on(type, 'read');
  if (!access || !isStoredType(type) || ids.length === 0) return out;
  const filter = access.patientCompartment || access.matchAny ? typeAccessFilter(access, type) : ANY_RESOURCE;
  for (const row of await readVisible(db, type, ids, filter)) out.set(row.id, shown(toStored(row), access));
  return out;
}

/** One version, if the resource (as it is now) is visible; undefined otherwise. `exists` tells a missing version from a missing resource. */
export async function readResourceVersion(
  db: Executor,
  scope: AccessScope,
  type: string,
  id: string,
  versionId: number,
): Promise<{ version?: StoredVersion; exists: boolean }> {
  const access = scope.on(type, 'read');
  if (!access || !isStoredType(type) || !(await isVisible(db, type, id, access))) return { exists: false };
  const version = await readVersion(db, type, id, versionId);
  if (version) return { version: shown(version, access), exists: true };
  return { exists: (await readCurrent(db, type, id)) !== undefined };
}

/**
 * History of one resource (visible as it is now), of a type, or of the whole server. Type and
 * system history list versions of many resources, so they need a scope without compartment or
 * granular restriction on every type they list; the caller refuses confined scopes before.
 */
export async function readResourceHistory(db: Executor, scope: AccessScope, q: HistoryQuery): Promise<HistoryPage | undefined> {
  if (q.resourceType) {
    const access = scope.on(q.resourceType, 'read');
    if (!access || !isStoredType(q.resourceType)) return undefined;
    if (q.id) {
      if (!(await readCurrent(db, q.resourceType, q.id)) || !(await isVisible(db, q.resourceType, q.id, access))) return undefined;
    } else if (access.patientCompartment || access.matchAny) return undefined;
    const page = await readHistory(db, q);
    return access.view ? { ...page, entries: page.entries.map((e) => ({ ...shown(e, access), method: e.method, seq: e.seq })) } : page;
  }
  // System history: only the types the scope may read whole.
  const readable = STORED_TYPES.filter((t) => {
    const a = scope.on(t, 'read');
    return a && !a.patientCompartment && !a.matchAny;
  });
  if (readable.length === 0) return { entries: [], hasMore: false };
  const page = await readHistory(db, { ...q, types: readable.length === STORED_TYPES.length ? undefined : readable });
  return {
    ...page,
    entries: page.entries.map((e) => {
      const access = scope.on(e.resourceType, 'read')!;
      return { ...shown(e, access), method: e.method, seq: e.seq };
    }),
  };
}

/**
 * The Patients a stored resource belongs to (its compartment, from the index), for the audit of a
 * refused or failed access: the patient then sees the attempt in their trail. Never returned to
 * the caller.
 */
export async function patientsOfStored(db: Executor, type: string, id: string): Promise<string[]> {
  return patientsOfIndexedResource(db, type, id, patientCompartmentParams(type));
}

/**
 * The current version locked for the rest of the transaction (a compare-and-set that reads
 * first), if visible to `scope`; undefined otherwise.
 */
export async function lockResource(tx: Tx, scope: AccessScope, type: string, id: string): Promise<StoredVersion | undefined> {
  const access = scope.on(type, 'read');
  if (!access || !isStoredType(type) || !(await isVisible(tx, type, id, access))) return undefined;
  const stored = await lockCurrent(tx, type, id);
  return stored && shown(stored, access);
}

/**
 * Current versions of resources of any types, for the server's own checks inside a write (registry
 * references must resolve), telling which ones the same transaction wrote. Server scope only.
 */
export { readCurrentResources as readForServerCheck, type CurrentResourceRow } from '../repository/identity-resources';
