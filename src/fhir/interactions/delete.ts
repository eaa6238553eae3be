// https://hl7.org/fhir/R4/http.html#delete and #3.1.0.7.1 (conditional delete)
import { FhirError } from '../../errors/fhir-error';
import { informationOutcome } from '../../errors/operation-outcome';
import { lockKey } from '../../repository/resources';
import { inTransaction } from '../../repository/transaction';
import type { FhirContext } from '../context';
import { writeDelete } from '../persist';
import { normalizeCriteria, parseCriteria, parseIfMatch } from '../preconditions';
import type { FhirRequest, FhirResponse } from '../request';
import { requireKnownType, requireValidId } from '../resource-body';

export async function deleteInstance(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const id = requireValidId(req.params.id);
  const ifMatch = parseIfMatch(req.headers['if-match']);
  const deleted = await inTransaction(ctx.db, (tx) => writeDelete(ctx, tx, type, id, ifMatch));
  if (!deleted) return { status: 200, body: informationOutcome(`${type}/${id} did not exist or was already deleted`) };
  return { status: 200, headers: { ETag: `W/"${deleted.versionId}"` }, body: informationOutcome(`Deleted ${type}/${id}`) };
}

/** Deletes the single match; several matches are 412 (we do not support multiple deletes). */
export async function conditionalDelete(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const criteria = parseCriteria(req.query.toString());
  const result = await inTransaction(ctx.db, async (tx) => {
    await lockKey(tx, `conditional:${normalizeCriteria(type, criteria)}`);
    const matches = await ctx.search.findIds(tx, type, criteria, 2);
    if (matches.length > 1) throw FhirError.preconditionFailed(`The criteria matched more than one ${type}; refine them`);
    if (matches.length === 0) return undefined;
    return writeDelete(ctx, tx, type, matches[0]);
  });
  if (!result) return { status: 200, body: informationOutcome(`No ${type} matched; nothing deleted`) };
  return { status: 200, headers: { ETag: `W/"${result.versionId}"` }, body: informationOutcome(`Deleted ${type}/${result.id}`) };
}
