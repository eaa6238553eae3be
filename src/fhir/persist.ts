import { FhirError } from '../errors/fhir-error';
import { stringifyJson } from '../shared/json';
import { insertFirstVersion, lockCurrent, replaceVersion } from '../repository/resources';
import type { Tx } from '../repository/transaction';
import { patientIdsOf } from './access';
import type { FhirContext } from './context';
import { etag } from './preconditions';
import { ResourceBody, stampResource } from './resource-body';

/**
 * The write path every interaction shares: stamp id and meta, store the
 * version and its history row, and index it for search, all in the caller's
 * transaction. Validation has already happened above.
 */
export interface WrittenVersion {
  resource: ResourceBody;
  text: string;
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
}

async function store(
  ctx: FhirContext,
  tx: Tx,
  resource: ResourceBody,
  id: string,
  versionId: number,
  method: 'create' | 'update',
  expectedVersion?: number,
): Promise<WrittenVersion | undefined> {
  for (const hook of ctx.writeHooks) if (hook.beforeStore) resource = (await hook.beforeStore(tx, resource, id)) as ResourceBody;
  const lastUpdated = ctx.clock.now();
  const stamped = stampResource(resource, id, versionId, lastUpdated);
  const text = stringifyJson(stamped);
  const input = { resourceType: resource.resourceType, id, versionId, lastUpdated, deleted: false, content: text, method };
  const ok = expectedVersion === undefined ? await insertFirstVersion(tx, input) : await replaceVersion(tx, input, expectedVersion);
  if (!ok) return undefined;
  await ctx.search.indexResource(tx, stamped as ResourceBody & { id: string });
  for (const hook of ctx.writeHooks) await hook.afterStore?.(tx, stamped as ResourceBody & { id: string });
  if (ctx.auditWrite && resource.resourceType !== 'AuditEvent') {
    await ctx.auditWrite(tx, { resourceType: resource.resourceType, id, versionId: String(versionId), patientIds: patientIdsOf(stamped) });
  }
  return { resource: stamped, text, resourceType: resource.resourceType, id, versionId, lastUpdated };
}

/** https://hl7.org/fhir/R4/http.html#create — a new server-assigned id. */
export async function writeNew(ctx: FhirContext, tx: Tx, resource: ResourceBody): Promise<WrittenVersion> {
  const id = ctx.ids.newId();
  const written = await store(ctx, tx, resource, id, 1, 'create');
  if (!written) throw FhirError.conflict(`Generated id ${id} is already taken`);
  return written;
}

export interface UpdateResult {
  written: WrittenVersion;
  created: boolean;
}

/**
 * https://hl7.org/fhir/R4/http.html#update — replaces the current version, or
 * creates the resource with the client's id (update-as-create). `ifMatch`
 * makes it a compare-and-set on the version the client read.
 */
export async function writeUpdate(
  ctx: FhirContext,
  tx: Tx,
  resource: ResourceBody,
  id: string,
  ifMatch?: number,
): Promise<UpdateResult> {
  const current = await lockCurrent(tx, resource.resourceType, id);
  if (!current) {
    if (ifMatch !== undefined) {
      throw FhirError.preconditionFailed(`${resource.resourceType}/${id} does not exist, so If-Match ${etag(ifMatch)} cannot hold`);
    }
    const created = await store(ctx, tx, resource, id, 1, 'create');
    if (created) return { written: created, created: true };
    // Someone created it between our lock attempt and insert: retry as an update.
    return writeUpdate(ctx, tx, resource, id, ifMatch);
  }
  if (ifMatch !== undefined && ifMatch !== current.versionId) {
    throw FhirError.preconditionFailed(
      `Version conflict: If-Match ${etag(ifMatch)} but ${resource.resourceType}/${id} is at version ${current.versionId}`,
      { code: 'NHIS-1412' },
    );
  }
  const written = await store(ctx, tx, resource, id, current.versionId + 1, 'update', current.versionId);
  if (!written) throw FhirError.preconditionFailed(`${resource.resourceType}/${id} changed during the update; retry`);
  return { written, created: current.deleted };
}

export interface DeleteResult {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
}

/**
 * https://hl7.org/fhir/R4/http.html#delete — history is kept; a delete marker
 * becomes the newest version. Deleting a missing or deleted resource is a no-op
 * (returns undefined), as the spec allows.
 */
export async function writeDelete(
  ctx: FhirContext,
  tx: Tx,
  resourceType: string,
  id: string,
  ifMatch?: number,
): Promise<DeleteResult | undefined> {
  const current = await lockCurrent(tx, resourceType, id);
  if (!current || current.deleted) {
    if (ifMatch !== undefined) throw FhirError.preconditionFailed(`${resourceType}/${id} does not exist`);
    return undefined;
  }
  if (ifMatch !== undefined && ifMatch !== current.versionId) {
    throw FhirError.preconditionFailed(`Version conflict: If-Match ${etag(ifMatch)} but ${resourceType}/${id} is at version ${current.versionId}`);
  }
  const lastUpdated = ctx.clock.now();
  const versionId = current.versionId + 1;
  const ok = await replaceVersion(
    tx,
    { resourceType, id, versionId, lastUpdated, deleted: true, content: current.content ?? '{}', method: 'delete' },
    current.versionId,
  );
  if (!ok) throw FhirError.preconditionFailed(`${resourceType}/${id} changed during the delete; retry`);
  await ctx.search.removeFromIndex(tx, resourceType, id);
  for (const hook of ctx.writeHooks) await hook.afterDelete?.(tx, resourceType, id);
  if (ctx.auditWrite) {
    await ctx.auditWrite(tx, { resourceType, id, versionId: String(versionId), patientIds: patientIdsOf(current.content ? JSON.parse(current.content) : undefined) });
  }
  return { resourceType, id, versionId, lastUpdated };
}
