// https://hl7.org/fhir/R4/http.html#delete and #3.1.0.7.1 (conditional delete)
import { FhirError } from '../../errors/fhir-error';
import { informationOutcome } from '../../errors/operation-outcome';
import { requireKnownType, requireValidId } from '../../store/resource-body';
import { matchResourceIds } from '../../store/search/search-resources';
import { inTransaction, lockKey } from '../../store/transaction';
import { deleteResource } from '../../store/write/write-resources';
import { scopeOf, writerOf } from '../access';
import type { FhirContext } from '../context';
import { normalizeCriteria, parseCriteria, parseIfMatch } from '../preconditions';
import type { FhirRequest, FhirResponse } from '../request';

export async function deleteInstance(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const id = requireValidId(req.params.id);
  const ifMatch = parseIfMatch(req.headers['if-match']);
  const writer = { ...writerOf(req), scope: scopeOf(ctx, req) };
  const deleted = await inTransaction(ctx.db, (tx) => deleteResource(ctx, tx, writer, type, id, ifMatch));
  if (!deleted) return { status: 200, body: informationOutcome(`${type}/${id} did not exist or was already deleted`) };
  return { status: 200, headers: { ETag: `W/"${deleted.versionId}"` }, body: informationOutcome(`Deleted ${type}/${id}`) };
}

/** Deletes the single match; several matches are 412 (we do not support multiple deletes). */
export async function conditionalDelete(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const criteria = parseCriteria(req.query.toString());
  const scope = scopeOf(ctx, req);
  const writer = { ...writerOf(req), scope };
  const result = await inTransaction(ctx.db, async (tx) => {
    await lockKey(tx, `conditional:${normalizeCriteria(type, criteria)}`);
    const matches = await matchResourceIds(tx, scope, type, criteria, 2);
    if (matches.length > 1) throw FhirError.preconditionFailed(`The criteria matched more than one ${type}; refine them`);
    if (matches.length === 0) return undefined;
    return deleteResource(ctx, tx, writer, type, matches[0]);
  });
  if (!result) return { status: 200, body: informationOutcome(`No ${type} matched; nothing deleted`) };
  return { status: 200, headers: { ETag: `W/"${result.versionId}"` }, body: informationOutcome(`Deleted ${type}/${result.id}`) };
}
