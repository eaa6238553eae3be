// https://hl7.org/fhir/R4/http.html#update and #cond-update
import { FhirError } from '../../errors/fhir-error';
import { lockKey } from '../../repository/resources';
import { inTransaction } from '../../repository/transaction';
import type { FhirContext } from '../context';
import { writeUpdate } from '../persist';
import { normalizeCriteria, parseCriteria, parseIfMatch } from '../preconditions';
import type { FhirRequest, FhirResponse } from '../request';
import { writtenResponse } from '../respond';
import { requireKnownType, requireResource, requireValidId } from '../resource-body';
import { assertValid } from '../validate-resource';

export async function update(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const id = requireValidId(req.params.id);
  const resource = requireResource(req.body, type);
  if (resource.id === undefined) throw FhirError.badRequest('The resource must carry its id in an update', { code: 'NHIS-1007', expression: [`${type}.id`] });
  if (resource.id !== id) {
    throw FhirError.badRequest(`The resource id '${String(resource.id)}' does not match the URL id '${id}'`, {
      code: 'NHIS-1008',
      expression: [`${type}.id`],
    });
  }
  assertValid(ctx, resource);
  const ifMatch = parseIfMatch(req.headers['if-match']);
  const { written, created } = await inTransaction(ctx.db, (tx) => writeUpdate(ctx, tx, resource, id, ifMatch));
  return writtenResponse(req, written, created ? 201 : 200, `${created ? 'Created' : 'Updated'} ${type}/${id}`);
}

/** PUT [type]?criteria: update the one match, create if none, 412 if several. */
export async function conditionalUpdate(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const criteria = parseCriteria(req.query.toString());
  const resource = requireResource(req.body, type);
  assertValid(ctx, resource);
  const ifMatch = parseIfMatch(req.headers['if-match']);
  const { written, created } = await inTransaction(ctx.db, async (tx) => {
    await lockKey(tx, `conditional:${normalizeCriteria(type, criteria)}`);
    const matches = await ctx.search.findIds(tx, type, criteria, 2);
    if (matches.length > 1) throw FhirError.preconditionFailed(`The criteria matched more than one ${type}`);
    if (matches.length === 1) {
      if (resource.id !== undefined && resource.id !== matches[0]) {
        throw FhirError.badRequest(`The resource id '${String(resource.id)}' differs from the matched ${type}/${matches[0]}`, {
          code: 'NHIS-1008',
          expression: [`${type}.id`],
        });
      }
      return writeUpdate(ctx, tx, resource, matches[0], ifMatch);
    }
    const id = typeof resource.id === 'string' ? resource.id : ctx.ids.newId();
    return writeUpdate(ctx, tx, resource, id, ifMatch);
  });
  return writtenResponse(req, written, created ? 201 : 200, `${created ? 'Created' : 'Updated'} ${type}/${written.id}`);
}
