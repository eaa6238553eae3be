// https://hl7.org/fhir/R4/http.html#transaction — the engine shared by transaction, batch and async Bundles.
import type { Principal } from '../../auth/principal';
import { FhirError, type Issue } from '../../errors/fhir-error';
import { stringifyJson } from '../../shared/json';
import type { AccessScope } from '../../store/access/access-scope';
import { isSqlState } from '../../store/errors';
import { readResource } from '../../store/read';
import type { ResourceBody } from '../../store/resource-body';
import { matchResourceIds } from '../../store/search/search-resources';
import { lockKey, type Tx } from '../../store/transaction';
import { statusForIssues } from '../../store/write/validate-resource';
import {
  createResources,
  deleteResource,
  examineResource,
  updateResource,
  withResolvedReferences,
  WriteItemsError,
  type CheckedResource,
  type DeleteResult,
  type UpdateResult,
  type WrittenVersion,
} from '../../store/write/write-resources';
import type { Writer } from '../../store/write/writer';
import type { FhirContext } from '../context';
import { read } from '../interactions/read';
import { vread } from '../interactions/vread';
import { etag, normalizeCriteria } from '../preconditions';
import type { FhirRequest, FhirResponse } from '../request';
import type { PreferReturn } from '../respond';
import { searchType } from '../search/search-handlers';
import { entryPath, isWrite, issuesForEntry, planEntry, processingRank, type EntryAction, type PlannedEntry } from './entry-request';
import { findReferences, isBundleLocalUrl, parseConditionalReference, rewriteReferences } from './references';

/** What the entries of one request share: where they were sent, and who sent them. */
export interface EntryRequestInfo {
  baseUrl: string;
  requestId: string;
  prefer: PreferReturn;
  /** The client who sent the Bundle (an async job runs for the client who queued it). */
  principal?: Principal;
  clientIp?: string;
}

/** Who the entries act as: the sender's scope for what they read and match, and the sender as writer. */
export interface EntryActor {
  scope: AccessScope;
  writer: Writer;
}

export interface RawEntry {
  /** Position in the submitted Bundle; every issue and diagnostic names it. */
  index: number;
  raw: unknown;
}

/** One entry of a transaction-response/batch-response, serialised (stored resources are embedded as stored). */
export type RenderedEntry = string;

/** A failure of one entry, kept so the final OperationOutcome lists every failing entry. */
interface EntryFailure {
  index: number;
  status: number;
  issues: Issue[];
}

class Failures {
  readonly list: EntryFailure[] = [];

  add(entry: { index: number; fullUrl?: string }, err: unknown, where?: string): void {
    if (!(err instanceof FhirError)) throw err;
    this.list.push({ index: entry.index, status: err.status, issues: issuesForEntry(err, entry.index, entry.fullUrl, where) });
  }

  /** Throws one FhirError holding every failure so far. */
  throwIfAny(): void {
    if (this.list.length > 0) throw combineFailures(this.list);
  }
}

/**
 * One status for many failing entries: theirs if they agree; otherwise the
 * status of the first failing entry in Bundle order (5xx wins over all).
 */
function combineFailures(list: EntryFailure[]): FhirError {
  const sorted = [...list].sort((a, b) => a.index - b.index);
  const server = sorted.find((f) => f.status >= 500);
  const status = server?.status ?? sorted[0].status;
  return new FhirError(status, sorted.flatMap((f) => f.issues));
}

export interface ProcessHooks {
  /** Inside the transaction, after every entry succeeded and the response is built, before commit. */
  beforeCommit?: (tx: Tx, responseText: string) => Promise<void>;
  /** Entries written so far (for async progress); called synchronously, must not touch the database. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Parses and validates every entry before anything is written, and reports ALL
 * problems at once. Validation issues carry `Bundle.entry[i].resource...`.
 */
export function planEntries(ctx: Pick<FhirContext, 'validate'>, entries: RawEntry[], baseUrl: string): PlannedEntry[] {
  const planned: PlannedEntry[] = [];
  const issues: Issue[] = [];
  let structural = false;
  const fullUrls = new Map<string, number>();
  for (const { raw, index } of entries) {
    let plan: PlannedEntry;
    try {
      plan = planEntry(raw, index, baseUrl);
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      const fullUrl = (raw as { fullUrl?: unknown } | null)?.fullUrl;
      issues.push(...issuesForEntry(err, index, typeof fullUrl === 'string' ? fullUrl : undefined));
      structural = true;
      continue;
    }
    if (plan.fullUrl !== undefined && isWrite(plan.action)) {
      const first = fullUrls.get(plan.fullUrl);
      if (first !== undefined) {
        issues.push(...issuesForEntry(FhirError.badRequest(`fullUrl is also used by entry[${first}]`, { code: 'NHIS-1603' }), index, plan.fullUrl, `${entryPath(index)}.fullUrl`));
        structural = true;
      } else fullUrls.set(plan.fullUrl, index);
    }
    const resource = 'resource' in plan.action ? plan.action.resource : undefined;
    if (resource) {
      const { checked, errors: found } = examineResource(ctx, resource, `${entryPath(index)}.resource`);
      if (found.length > 0) {
        if (statusForIssues(found) === 400) structural = true;
        issues.push(...found.map((i) => ({ ...i, diagnostics: `${describe(plan)}: ${i.diagnostics}` })));
      }
      plan.checked = checked;
    }
    planned.push(plan);
  }
  if (issues.length > 0) throw new FhirError(structural ? 400 : 422, issues);
  return planned;
}

function describe(plan: PlannedEntry): string {
  return plan.fullUrl ? `entry[${plan.index}] (fullUrl ${plan.fullUrl})` : `entry[${plan.index}]`;
}

/** The outcome of one entry inside the transaction, rendered once all succeeded. */
type EntryOutcome =
  | { kind: 'created'; written: WrittenVersion }
  | { kind: 'matched'; type: string; id: string }
  | { kind: 'updated'; result: UpdateResult }
  | { kind: 'deleted'; result: DeleteResult | undefined }
  | { kind: 'read'; response: FhirResponse };

interface PendingCreate {
  plan: PlannedEntry;
  action: Extract<EntryAction, { kind: 'create' }>;
  id: string;
}

interface PendingUpdate {
  plan: PlannedEntry;
  id: string;
  ifMatch?: number;
}

/** The checked resource of a write entry (the planner sets it for every write it lets through). */
function checkedOf(plan: PlannedEntry): CheckedResource {
  if (!plan.checked) throw new Error(`entry[${plan.index}] was not checked by the planner`);
  return plan.checked;
}

/**
 * Executes planned entries inside `tx` in the order the spec prescribes
 * (DELETE, POST, PUT, GET), resolving `urn:uuid:`/`urn:oid:` fullUrls and
 * conditional references first, so every reference is rewritten before any
 * resource is stored. Throws one FhirError listing every failing entry; the
 * caller's transaction then rolls everything back.
 */
export async function executeEntries(
  ctx: FhirContext,
  tx: Tx,
  planned: PlannedEntry[],
  info: EntryRequestInfo,
  actor: EntryActor,
  hooks: ProcessHooks = {},
): Promise<RenderedEntry[]> {
  const { scope, writer } = actor;
  const failures = new Failures();
  const outcomes = new Map<number, EntryOutcome>();
  const ordered = [...planned].sort((a, b) => processingRank(a.action) - processingRank(b.action) || a.index - b.index);
  const refMap = new Map<string, string>();
  const touched = new Map<string, number>();
  const total = ordered.filter((p) => isWrite(p.action)).length;
  let done = 0;

  const guard = async (plan: PlannedEntry, fn: () => Promise<void>, where?: string): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      // After a failed statement PostgreSQL refuses everything until rollback:
      // report what we have collected, not the follow-on error.
      if (!(err instanceof FhirError) && isSqlState(err, '25P02') && failures.list.length > 0) failures.throwIfAny();
      failures.add(plan, err, where);
    }
  };
  const touch = (plan: PlannedEntry, key: string): void => {
    const first = touched.get(key);
    if (first !== undefined) {
      failures.add(plan, FhirError.badRequest(`${key} is also changed by entry[${first}]; a transaction may touch a resource once`, { code: 'NHIS-1604' }));
    } else touched.set(key, plan.index);
  };

  // Conditional writes take their advisory locks up front, in one global order,
  // so two transactions locking the same keys cannot deadlock each other.
  const lockKeys = new Set<string>();
  for (const { action } of ordered) {
    if (action.kind === 'create' && action.ifNoneExist) lockKeys.add(`conditional:${normalizeCriteria(action.type, action.ifNoneExist)}`);
    if (action.kind === 'conditional-update' || action.kind === 'conditional-delete') lockKeys.add(`conditional:${normalizeCriteria(action.type, action.criteria)}`);
  }
  for (const key of [...lockKeys].sort()) await lockKey(tx, key);

  // 1. DELETE
  for (const plan of ordered) {
    const { action } = plan;
    if (action.kind === 'delete') {
      touch(plan, `${action.type}/${action.id}`);
      await guard(plan, async () => {
        outcomes.set(plan.index, { kind: 'deleted', result: await deleteResource(ctx, tx, writer, action.type, action.id, action.ifMatch) });
      }, `${entryPath(plan.index)}.request`);
    } else if (action.kind === 'conditional-delete') {
      await guard(plan, async () => {
        const matches = await matchResourceIds(tx, scope, action.type, action.criteria, 2);
        if (matches.length > 1) throw FhirError.preconditionFailed(`The criteria matched more than one ${action.type}; refine them`, { code: 'NHIS-1412' });
        if (matches.length === 1) touch(plan, `${action.type}/${matches[0]}`);
        outcomes.set(plan.index, { kind: 'deleted', result: matches.length ? await deleteResource(ctx, tx, writer, action.type, matches[0]) : undefined });
      }, `${entryPath(plan.index)}.request.url`);
    }
  }

  // 2. POST: assign ids (or find the ifNoneExist match) so references can be rewritten.
  const creates: PendingCreate[] = [];
  for (const plan of ordered) {
    const { action } = plan;
    if (action.kind !== 'create') continue;
    await guard(plan, async () => {
      let id: string | undefined;
      if (action.ifNoneExist) {
        const matches = await matchResourceIds(tx, scope, action.type, action.ifNoneExist, 2);
        if (matches.length > 1) throw FhirError.preconditionFailed(`ifNoneExist matched more than one ${action.type}`, { code: 'NHIS-1413' });
        if (matches.length === 1) {
          outcomes.set(plan.index, { kind: 'matched', type: action.type, id: matches[0] });
          id = matches[0];
        }
      }
      if (id === undefined) {
        id = ctx.ids.newId();
        creates.push({ plan, action, id });
        touch(plan, `${action.type}/${id}`);
      }
      if (plan.fullUrl) refMap.set(plan.fullUrl, `${action.type}/${id}`);
    }, `${entryPath(plan.index)}.request.ifNoneExist`);
  }

  // 3. PUT: find the target of conditional updates.
  const updates: PendingUpdate[] = [];
  for (const plan of ordered) {
    const { action } = plan;
    if (action.kind === 'update') {
      updates.push({ plan, id: action.id, ifMatch: action.ifMatch });
      touch(plan, `${action.type}/${action.id}`);
      if (plan.fullUrl) refMap.set(plan.fullUrl, `${action.type}/${action.id}`);
    } else if (action.kind === 'conditional-update') {
      await guard(plan, async () => {
        const matches = await matchResourceIds(tx, scope, action.type, action.criteria, 2);
        if (matches.length > 1) throw FhirError.preconditionFailed(`The criteria matched more than one ${action.type}`, { code: 'NHIS-1412' });
        const own = typeof action.resource.id === 'string' ? action.resource.id : undefined;
        if (matches.length === 1 && own !== undefined && own !== matches[0]) {
          throw FhirError.badRequest(`The resource id '${own}' differs from the matched ${action.type}/${matches[0]}`, {
            code: 'NHIS-1008',
            expression: [`${entryPath(plan.index)}.resource.id`],
          });
        }
        const id = matches[0] ?? own ?? ctx.ids.newId();
        updates.push({ plan, id, ifMatch: action.ifMatch });
        touch(plan, `${action.type}/${id}`);
        if (plan.fullUrl) refMap.set(plan.fullUrl, `${action.type}/${id}`);
      }, `${entryPath(plan.index)}.request.url`);
    }
  }

  // 4. Conditional references, each distinct one searched once.
  const conditional = new Map<string, Promise<string | FhirError>>();
  const resolveConditional = (value: string): Promise<string | FhirError> => {
    let pending = conditional.get(value);
    if (!pending) {
      pending = (async () => {
        const parsed = parseConditionalReference(value)!;
        try {
          const matches = await matchResourceIds(tx, scope, parsed.type, new URLSearchParams(parsed.criteria), 2);
          if (matches.length === 1) return `${parsed.type}/${matches[0]}`;
          return FhirError.preconditionFailed(
            matches.length === 0 ? `Conditional reference '${value}' matches no ${parsed.type}` : `Conditional reference '${value}' matches more than one ${parsed.type}`,
            { code: matches.length === 0 ? 'NHIS-1605' : 'NHIS-1606' },
          );
        } catch (err) {
          if (err instanceof FhirError) return err;
          throw err;
        }
      })();
      conditional.set(value, pending);
    }
    return pending;
  };
  const toWrite: { plan: PlannedEntry; resource: ResourceBody }[] = [
    ...creates.map((c) => ({ plan: c.plan, resource: c.action.resource })),
    ...updates.map((u) => ({ plan: u.plan, resource: checkedOf(u.plan).resource })),
  ];
  const resolvedConditional = new Map<string, string>();
  for (const { plan, resource } of toWrite) {
    for (const ref of findReferences(resource)) {
      if (!parseConditionalReference(ref.value)) continue;
      // Sequential on purpose: one transaction is one connection.
      const result = await resolveConditional(ref.value);
      if (result instanceof FhirError) failures.add(plan, result, `${entryPath(plan.index)}.resource.${ref.path}`);
      else resolvedConditional.set(ref.value, result);
    }
  }

  // 5. Rewrite every reference; a urn that names no entry is an error.
  const rewritten = new Map<number, CheckedResource>();
  for (const { plan } of toWrite) {
    rewritten.set(
      plan.index,
      withResolvedReferences(checkedOf(plan), (resource) => rewriteReferences(resource, (value, path) => {
        const local = refMap.get(value) ?? resolvedConditional.get(value);
        if (local !== undefined) return local;
        if (isBundleLocalUrl(value)) {
          failures.add(
            plan,
            FhirError.unprocessable(`Reference '${value}' is not the fullUrl of any entry in this Bundle`, { code: 'NHIS-1607' }),
            `${entryPath(plan.index)}.resource.${path}`,
          );
        }
        return undefined;
      })),
    );
  }
  failures.throwIfAny();

  // 6. Writes: new resources all at once through the store's bulk write (hooks, index and one
  // AuditEvent per resource, exactly as for single creates), then updates one by one.
  try {
    const written = await createResources(ctx, tx, writer, creates.map((c) => ({ input: rewritten.get(c.plan.index)!, id: c.id })));
    written.forEach((w, i) => outcomes.set(creates[i].plan.index, { kind: 'created', written: w }));
  } catch (err) {
    if (!(err instanceof WriteItemsError)) throw err;
    for (const f of err.failures) failures.add(creates[f.item].plan, f.error);
  }
  failures.throwIfAny();
  for (let i = 0; i < creates.length; i++) hooks.onProgress?.(++done, total);
  for (const u of updates) {
    await guard(u.plan, async () => {
      const result = await updateResource(ctx, tx, writer, rewritten.get(u.plan.index)!, u.id, u.ifMatch);
      outcomes.set(u.plan.index, { kind: 'updated', result });
      hooks.onProgress?.(++done, total);
    }, u.ifMatch !== undefined ? `${entryPath(u.plan.index)}.request.ifMatch` : undefined);
  }
  failures.throwIfAny();

  // 7. GET, answered inside the transaction so reads see its writes, within the sender's scope.
  const txCtx: FhirContext = { ...ctx, db: tx };
  for (const plan of ordered) {
    const { action } = plan;
    if (action.kind !== 'read' && action.kind !== 'vread' && action.kind !== 'search') continue;
    await guard(plan, async () => {
      const sub: FhirRequest = {
        method: 'GET',
        params: action.kind === 'search' ? { type: action.type } : action.kind === 'read' ? { type: action.type, id: action.id } : { type: action.type, id: action.id, vid: action.vid },
        query: action.kind === 'search' ? action.query : new URLSearchParams(),
        headers: {},
        baseUrl: info.baseUrl,
        requestId: info.requestId,
        principal: info.principal,
        scope,
      };
      let response: FhirResponse;
      if (action.kind === 'read') response = await read(txCtx, sub);
      else if (action.kind === 'vread') response = await vread(txCtx, sub);
      else response = await searchType(txCtx, sub);
      outcomes.set(plan.index, { kind: 'read', response });
    }, `${entryPath(plan.index)}.request.url`);
  }
  failures.throwIfAny();

  const rendered: RenderedEntry[] = [];
  for (const plan of [...planned].sort((a, b) => a.index - b.index)) {
    rendered.push(await renderEntry(tx, scope, plan, outcomes.get(plan.index)!, info));
  }
  return rendered;
}

/** `Bundle.entry.response` of one entry, with the resource embedded per `Prefer: return`. */
async function renderEntry(tx: Tx, scope: AccessScope, plan: PlannedEntry, outcome: EntryOutcome, info: EntryRequestInfo): Promise<RenderedEntry> {
  const fullUrl = (type: string, id: string) => `${info.baseUrl}/${type}/${id}`;
  const location = (type: string, id: string, versionId: number) => `${type}/${id}/_history/${versionId}`;
  switch (outcome.kind) {
    case 'created': {
      const v = outcome.written;
      const response = { status: '201 Created', location: location(v.resourceType, v.id, 1), etag: etag(1), lastModified: v.lastUpdated.toISOString() };
      return compose(fullUrl(v.resourceType, v.id), v.text, response, info.prefer, `Created ${v.resourceType}/${v.id}`);
    }
    case 'matched': {
      const stored = await readResource(tx, scope, outcome.type, outcome.id);
      if (!stored || stored.deleted || stored.content === null) throw FhirError.conflict(`The matching ${outcome.type} was deleted meanwhile; retry`);
      const response = {
        status: '200 OK',
        location: location(stored.resourceType, stored.id, stored.versionId),
        etag: etag(stored.versionId),
        lastModified: stored.lastUpdated.toISOString(),
      };
      return compose(fullUrl(stored.resourceType, stored.id), stored.content, response, info.prefer, `${stored.resourceType}/${stored.id} matched ifNoneExist; nothing created`);
    }
    case 'updated': {
      const { written, created } = outcome.result;
      const response = {
        status: created ? '201 Created' : '200 OK',
        location: location(written.resourceType, written.id, written.versionId),
        etag: etag(written.versionId),
        lastModified: written.lastUpdated.toISOString(),
      };
      return compose(fullUrl(written.resourceType, written.id), written.text, response, info.prefer, `${created ? 'Created' : 'Updated'} ${written.resourceType}/${written.id}`);
    }
    case 'deleted': {
      const r = outcome.result;
      const response: Record<string, string> = { status: '204 No Content' };
      if (r) {
        response.etag = etag(r.versionId);
        response.lastModified = r.lastUpdated.toISOString();
      }
      return stringifyJson({ response });
    }
    case 'read': {
      const r = outcome.response;
      const response: Record<string, string> = { status: `${r.status} OK` };
      if (r.headers?.ETag) response.etag = r.headers.ETag;
      if (r.headers?.['Last-Modified']) response.lastModified = new Date(r.headers['Last-Modified']).toISOString();
      const text = r.rawBody ?? (r.body !== undefined ? stringifyJson(r.body) : undefined);
      return text === undefined ? stringifyJson({ response }) : `{"resource":${text},"response":${stringifyJson(response)}}`;
    }
  }
}

function compose(fullUrl: string, resourceText: string, response: Record<string, string>, prefer: PreferReturn, message: string): RenderedEntry {
  if (prefer === 'minimal') return stringifyJson({ fullUrl, response });
  if (prefer === 'OperationOutcome') {
    return stringifyJson({ fullUrl, response: { ...response, outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: message }] } } });
  }
  return `{"fullUrl":${JSON.stringify(fullUrl)},"resource":${resourceText},"response":${stringifyJson(response)}}`;
}

/** Serialises a `transaction-response` or `batch-response` Bundle from rendered entries. */
export function renderResponseBundle(type: 'transaction-response' | 'batch-response', id: string, entries: RenderedEntry[]): string {
  return `{"resourceType":"Bundle","id":${JSON.stringify(id)},"type":"${type}","entry":[${entries.join(',')}]}`;
}
