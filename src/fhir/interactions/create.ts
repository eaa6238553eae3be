// https://hl7.org/fhir/R4/http.html#create and #ccreate (If-None-Exist)
import { FhirError } from '../../errors/fhir-error';
import { readResource } from '../../store/read';
import { requireKnownType, requireResource } from '../../store/resource-body';
import { matchResourceIds } from '../../store/search/search-resources';
import { inTransaction, lockKey } from '../../store/transaction';
import { assertValid } from '../../store/write/validate-resource';
import { createResource } from '../../store/write/write-resources';
import { scopeOf, writerOf } from '../access';
import type { FhirContext } from '../context';
import { normalizeCriteria, parseCriteria } from '../preconditions';
import type { FhirRequest, FhirResponse } from '../request';
import { storedResponse, writtenResponse } from '../respond';

export async function create(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const resource = requireResource(req.body, type);
  assertValid(ctx, resource);
  const scope = scopeOf(ctx, req);
  const writer = { ...writerOf(req), scope };
  const ifNoneExist = req.headers['if-none-exist'];
  // A transaction or batch Bundle posted here is kept as a document; only POST [base] processes its entries.
  const bundleType = type === 'Bundle' ? (resource as { type?: unknown }).type : undefined;
  const warning =
    bundleType === 'transaction' || bundleType === 'batch'
      ? `This ${bundleType} Bundle was stored as a Bundle resource; its entries were not processed. POST it to the base URL ([base]/) to process it.`
      : undefined;
  if (ifNoneExist === undefined) {
    const written = await inTransaction(ctx.db, (tx) => createResource(ctx, tx, writer, resource));
    return writtenResponse(req, written, 201, `Created ${type}/${written.id}`, warning);
  }

  const criteria = parseCriteria(ifNoneExist);
  const outcome = await inTransaction(ctx.db, async (tx) => {
    // One lock per normalised criteria makes N identical concurrent conditional
    // creates produce exactly one resource: the others wait, then find it.
    await lockKey(tx, `conditional:${normalizeCriteria(type, criteria)}`);
    // Matched among what the caller may search only: a match it may not see is never reported.
    const matches = await matchResourceIds(tx, scope, type, criteria, 2);
    if (matches.length > 1) {
      throw FhirError.preconditionFailed(`If-None-Exist matched more than one ${type}`, { code: 'NHIS-1413' });
    }
    if (matches.length === 1) return { existingId: matches[0] };
    return { written: await createResource(ctx, tx, writer, resource) };
  });
  if (outcome.written) return writtenResponse(req, outcome.written, 201, `Created ${type}/${outcome.written.id}`, warning);
  const stored = await readResource(ctx.db, scope, type, outcome.existingId!);
  if (!stored || stored.deleted) throw FhirError.conflict(`The matching ${type} was deleted meanwhile; retry`);
  // An existing match answers 200 with the match, per the spec.
  const response = storedResponse(stored);
  response.headers = { ...response.headers, Location: `${req.baseUrl}/${type}/${stored.id}/_history/${stored.versionId}` };
  return response;
}
