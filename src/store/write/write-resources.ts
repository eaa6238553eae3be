// The one write path: https://hl7.org/fhir/R4/http.html#create, #update, #delete, and a Bundle's many creates.
import { FhirError, type Issue } from '../../errors/fhir-error';
import { insertCreatedResources } from '../../repository/bulk-write';
import { insertFirstVersion, lockCurrent, replaceVersion } from '../../repository/resources';
import { deleteIndexRows, replaceIndexRows } from '../../repository/search-index';
import { readCurrentIfVisible } from '../../repository/search-query';
import type { IndexRows } from '../../repository/search-schema';
import type { Tx } from '../../repository/transaction';
import { parseJson, stringifyJson } from '../../shared/json';
import { typeAccessFilter } from '../access/access-filter';
import type { AccessUse, TypeAccess } from '../access/access-scope';
import type { AuditInput } from '../audit/audit-input';
import { stampResource, type ResourceBody } from '../resource-body';
import { patientsOfIndexRows } from '../search/compartment-patients';
import { extractIndexRows } from '../search/extract-index';
import { AUDIT_EVENT } from '../stored-types';
import type { StoreContext } from '../store-context';
import { assertValid, errorIssues } from './validate-resource';
import type { Writer } from './writer';

/**
 * Every write of one or many resources, whoever makes it (an interaction, a Bundle, an async job,
 * a workflow step), goes through these functions and nothing else: validate (what the server
 * builds itself too), run the domain's write hooks, stamp id and meta, store the version and its
 * history row, index it for search, and record one AuditEvent per written resource naming the
 * patients whose compartment it is in — all in the caller's transaction.
 */
export interface WrittenVersion {
  resource: ResourceBody;
  text: string;
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
}

export interface UpdateResult {
  written: WrittenVersion;
  created: boolean;
}

export interface DeleteResult {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
}

const checked = new WeakSet<object>();

/**
 * A resource that passed the validator. A Bundle checks all its entries before writing any (to
 * report every problem at once); the write path then does not check them a second time.
 */
export interface CheckedResource {
  readonly resource: ResourceBody;
}

export function checkResource(ctx: Pick<StoreContext, 'validate'>, resource: ResourceBody, pathPrefix?: string): CheckedResource {
  assertValid(ctx, resource, pathPrefix);
  const c = { resource };
  checked.add(c);
  return c;
}

/** The validator's errors, or the checked resource when there are none (for callers that report many resources' problems at once). */
export function examineResource(ctx: Pick<StoreContext, 'validate'>, resource: ResourceBody, pathPrefix?: string): { checked?: CheckedResource; errors: Issue[] } {
  const errors = errorIssues(ctx.validate(resource, { pathPrefix }));
  if (errors.length > 0) return { errors };
  const c = { resource };
  checked.add(c);
  return { checked: c, errors };
}

/**
 * A checked resource with its references rewritten (a transaction's `urn:uuid:` fullUrls and
 * conditional references resolved to `Type/id`): replacing one valid reference by another
 * keeps it valid, so the result stays checked.
 */
export function withResolvedReferences(c: CheckedResource, rewrite: (resource: ResourceBody) => ResourceBody): CheckedResource {
  if (!checked.has(c)) throw new Error('withResolvedReferences takes a CheckedResource from checkResource');
  const out = { resource: rewrite(c.resource) };
  checked.add(out);
  return out;
}

type Input = ResourceBody | CheckedResource;

function validated(ctx: StoreContext, input: Input): ResourceBody {
  if ('resource' in input && checked.has(input)) return (input as CheckedResource).resource;
  const resource = input as ResourceBody;
  assertValid(ctx, resource);
  return resource;
}

/** The write hooks before storing; what a hook changed is checked again. */
async function beforeStore(ctx: StoreContext, tx: Tx, writer: Writer, resource: ResourceBody, id: string): Promise<ResourceBody> {
  let out = resource;
  for (const hook of ctx.writeHooks) if (hook.beforeStore) out = await hook.beforeStore(tx, out, id, writer);
  if (out !== resource) assertValid(ctx, out);
  return out;
}

function auditOf(ctx: StoreContext, writer: Writer, interaction: 'create' | 'update' | 'delete', type: string, id: string, versionId: number, patientIds: string[]): AuditInput {
  return {
    principal: writer.principal,
    claimedClientId: writer.principal ? undefined : 'opennhis-server',
    interaction: writer.operation ? 'operation' : interaction,
    operation: writer.operation,
    resourceType: type,
    id,
    versionId: String(versionId),
    patientIds,
    outcome: 'success',
    rule: writer.rule,
    requestId: writer.requestId,
    clientIp: writer.clientIp,
    when: ctx.clock.now(),
  };
}

/**
 * A client's write confined by its scope: undefined when the scope sets no condition on the
 * resources of `type` (the common case); otherwise the access whose filter the resource must pass.
 */
function confinedWrite(writer: Writer, type: string, use: AccessUse): TypeAccess | undefined {
  if (!writer.scope) return undefined;
  const access = writer.scope.on(type, use);
  if (!access) throw FhirError.forbidden(`Access denied: no granted scope allows ${use} on ${type}`, { code: 'NHIS-1403' });
  return access.patientCompartment || access.matchAny ? access : undefined;
}

/** The resource as stored now passes the scope's filter (checked in SQL, on its index rows). */
async function passes(tx: Tx, type: string, id: string, access: TypeAccess): Promise<boolean> {
  return (await readCurrentIfVisible(tx, type, id, typeAccessFilter(access, type))) !== undefined;
}

function refuseAuditEvents(type: string): void {
  if (type === AUDIT_EVENT) throw FhirError.forbidden('Access denied by rule audit-immutable: AuditEvents are written by the server only', { code: 'NHIS-1403' });
}

async function store(
  ctx: StoreContext,
  tx: Tx,
  writer: Writer,
  input: Input,
  id: string,
  versionId: number,
  expectedVersion?: number,
): Promise<WrittenVersion | undefined> {
  const resource = await beforeStore(ctx, tx, writer, validated(ctx, input), id);
  refuseAuditEvents(resource.resourceType);
  const lastUpdated = ctx.clock.now();
  const stamped = stampResource(resource, id, versionId, lastUpdated) as ResourceBody & { id: string };
  const text = stringifyJson(stamped);
  const version = { resourceType: resource.resourceType, id, versionId, lastUpdated, deleted: false, content: text, method: expectedVersion === undefined ? ('create' as const) : ('update' as const) };
  const confined = confinedWrite(writer, resource.resourceType, expectedVersion === undefined ? 'create' : 'update');
  // An update may only touch what the caller may see; the same answer as for a missing resource.
  if (confined && expectedVersion !== undefined && !(await passes(tx, resource.resourceType, id, confined))) {
    throw FhirError.notFound(`${resource.resourceType}/${id} is not known`);
  }
  const ok = expectedVersion === undefined ? await insertFirstVersion(tx, version) : await replaceVersion(tx, version, expectedVersion);
  if (!ok) return undefined;
  const rows = extractIndexRows(stamped);
  await replaceIndexRows(tx, resource.resourceType, id, rows);
  if (confined && !(await passes(tx, resource.resourceType, id, confined))) {
    throw FhirError.forbidden(`Access denied: the ${resource.resourceType} written falls outside the granted scope ${confined.matchAny?.join(' or ') ?? 'of the patient'}`, { code: 'NHIS-1403' });
  }
  for (const hook of ctx.writeHooks) await hook.afterStore?.(tx, stamped, writer);
  await ctx.audit.recordInTransaction(tx, [auditOf(ctx, writer, versionId === 1 ? 'create' : 'update', resource.resourceType, id, versionId, patientsOfIndexRows(resource.resourceType, id, rows))]);
  return { resource: stamped, text, resourceType: resource.resourceType, id, versionId, lastUpdated };
}

/** https://hl7.org/fhir/R4/http.html#create — a new server-assigned id (or `opts.id`). */
export async function createResource(ctx: StoreContext, tx: Tx, writer: Writer, input: Input, opts: { id?: string } = {}): Promise<WrittenVersion> {
  const id = opts.id ?? ctx.ids.newId();
  const written = await store(ctx, tx, writer, input, id, 1);
  if (!written) throw FhirError.conflict(`Generated id ${id} is already taken`);
  return written;
}

/**
 * https://hl7.org/fhir/R4/http.html#update — replaces the current version, or creates the
 * resource with the client's id (update-as-create). `ifMatch` makes it a compare-and-set on the
 * version the client read.
 */
export async function updateResource(ctx: StoreContext, tx: Tx, writer: Writer, input: Input, id: string, ifMatch?: number): Promise<UpdateResult> {
  const type = ('resource' in input && checked.has(input) ? (input as CheckedResource).resource : (input as ResourceBody)).resourceType;
  refuseAuditEvents(type);
  const current = await lockCurrent(tx, type, id);
  // A confined writer (granular scope) updates only what it may see, and creates with its own id
  // never: whether an id is taken would tell that a resource it may not see exists.
  const confined = confinedWrite(writer, type, 'update');
  if (confined && (!current || current.deleted || !(await passes(tx, type, id, confined)))) throw FhirError.notFound(`${type}/${id} is not known`);
  if (!current) {
    if (ifMatch !== undefined) throw FhirError.preconditionFailed(`${type}/${id} does not exist, so If-Match W/"${ifMatch}" cannot hold`);
    const created = await store(ctx, tx, writer, input, id, 1);
    if (created) return { written: created, created: true };
    // Someone created it between our lock attempt and insert: retry as an update.
    return updateResource(ctx, tx, writer, input, id, ifMatch);
  }
  if (ifMatch !== undefined && ifMatch !== current.versionId) {
    throw FhirError.preconditionFailed(`Version conflict: If-Match W/"${ifMatch}" but ${type}/${id} is at version ${current.versionId}`, { code: 'NHIS-1412' });
  }
  const written = await store(ctx, tx, writer, input, id, current.versionId + 1, current.versionId);
  if (!written) throw FhirError.preconditionFailed(`${type}/${id} changed during the update; retry`);
  return { written, created: current.deleted };
}

/**
 * https://hl7.org/fhir/R4/http.html#delete — history is kept; a delete marker becomes the newest
 * version. Deleting a missing or deleted resource is a no-op (undefined), as the spec allows.
 */
export async function deleteResource(ctx: StoreContext, tx: Tx, writer: Writer, type: string, id: string, ifMatch?: number): Promise<DeleteResult | undefined> {
  refuseAuditEvents(type);
  const current = await lockCurrent(tx, type, id);
  if (!current || current.deleted) {
    if (ifMatch !== undefined) throw FhirError.preconditionFailed(`${type}/${id} does not exist`);
    return undefined;
  }
  const confined = confinedWrite(writer, type, 'delete');
  if (confined && !(await passes(tx, type, id, confined))) throw FhirError.notFound(`${type}/${id} is not known`);
  if (ifMatch !== undefined && ifMatch !== current.versionId) {
    throw FhirError.preconditionFailed(`Version conflict: If-Match W/"${ifMatch}" but ${type}/${id} is at version ${current.versionId}`);
  }
  const lastUpdated = ctx.clock.now();
  const versionId = current.versionId + 1;
  const ok = await replaceVersion(tx, { resourceType: type, id, versionId, lastUpdated, deleted: true, content: current.content ?? '{}', method: 'delete' }, current.versionId);
  if (!ok) throw FhirError.preconditionFailed(`${type}/${id} changed during the delete; retry`);
  await deleteIndexRows(tx, type, id);
  for (const hook of ctx.writeHooks) await hook.afterDelete?.(tx, type, id, writer);
  const before = current.content ? (parseJson(current.content) as ResourceBody) : undefined;
  const patients = before ? patientsOfIndexRows(type, id, extractIndexRows(before)) : [];
  await ctx.audit.recordInTransaction(tx, [auditOf(ctx, writer, 'delete', type, id, versionId, patients)]);
  return { resourceType: type, id, versionId, lastUpdated };
}

/** Failures of some of many writes, by their position in the list, so a Bundle can name each entry. */
export class WriteItemsError extends Error {
  constructor(readonly failures: { item: number; error: unknown }[]) {
    super(`${failures.length} of the resources could not be written`);
  }
}

/**
 * Many new resources (a Bundle's creates): the hooks run for each exactly as for a single create
 * (every refusal before storing is reported, not only the first); resource, history and index rows
 * of all of them go in one statement (one round trip); then one AuditEvent each, in one more.
 */
export async function createResources(ctx: StoreContext, tx: Tx, writer: Writer, items: { input: Input; id: string }[]): Promise<WrittenVersion[]> {
  const prepared: ResourceBody[] = [];
  const failures: { item: number; error: unknown }[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      const resource = await beforeStore(ctx, tx, writer, validated(ctx, items[i].input), items[i].id);
      refuseAuditEvents(resource.resourceType);
      prepared.push(resource);
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      failures.push({ item: i, error });
    }
  }
  if (failures.length > 0) throw new WriteItemsError(failures);
  const lastUpdated = ctx.clock.now();
  const stamped = prepared.map((r, i) => stampResource(r, items[i].id, 1, lastUpdated) as ResourceBody & { id: string });
  const texts = stamped.map((r) => stringifyJson(r));
  const index: IndexRows[] = stamped.map((r) => extractIndexRows(r));
  // A clash of generated ids fails the transaction, which undoes all of it.
  const taken = await insertCreatedResources(tx, {
    lastUpdated,
    resources: stamped.map((r, i) => ({ resourceType: r.resourceType, id: r.id, content: texts[i] })),
    index: stamped.map((r, i) => ({ resourceType: r.resourceType, id: r.id, rows: index[i] })),
  });
  if (taken.length > 0) throw FhirError.conflict(`Generated ids are already taken: ${taken.join(', ')}`);
  for (let i = 0; i < stamped.length; i++) {
    const confined = confinedWrite(writer, stamped[i].resourceType, 'create');
    if (confined && !(await passes(tx, stamped[i].resourceType, stamped[i].id, confined))) {
      throw new WriteItemsError([{ item: i, error: FhirError.forbidden(`Access denied: the ${stamped[i].resourceType} falls outside the granted scope ${confined.matchAny?.join(' or ') ?? ''}`, { code: 'NHIS-1403' }) }]);
    }
  }
  for (let i = 0; i < stamped.length; i++) {
    try {
      for (const hook of ctx.writeHooks) await hook.afterStore?.(tx, stamped[i], writer);
    } catch (error) {
      // A failed statement aborts the database transaction: nothing after it can run.
      if (error instanceof FhirError) throw new WriteItemsError([{ item: i, error }]);
      throw error;
    }
  }
  await ctx.audit.recordInTransaction(
    tx,
    stamped.map((r, i) => auditOf(ctx, writer, 'create', r.resourceType, r.id, 1, patientsOfIndexRows(r.resourceType, r.id, index[i]))),
  );
  return stamped.map((r, i) => ({ resource: r, text: texts[i], resourceType: r.resourceType, id: r.id, versionId: 1, lastUpdated }));
}
