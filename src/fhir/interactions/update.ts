// https://hl7.org/fhir/R4/http.html#update and #cond-update
import { FhirError } from '../../errors/fhir-error';
import { requireKnownType, requireResource, requireValidId } from '../../store/resource-body';
import { matchResourceIds } from '../../store/search/search-resources';
import { inTransaction, lockKey } from '../../store/transaction';
import { assertValid } from '../../store/write/validate-resource';
import { updateResource } from '../../store/write/write-resources';
import { scopeOf, writerOf } from '../access';
import type { FhirContext } from '../context';
import { normalizeCriteria, parseCriteria, parseIfMatch } from '../preconditions';
import type { FhirRequest, FhirResponse } from '../request';
import { writtenResponse } from '../respond';

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
  const writer = { ...writerOf(req), scope: scopeOf(ctx, req) };
  const { written, created } = await inTransaction(ctx.db, (tx) => updateResource(ctx, tx, writer, resource, id, ifMatch));
  return writtenResponse(req, written, created ? 201 : 200, `${created ? 'Created' : 'Updated'} ${type}/${id}`);
}

/** PUT [type]?criteria: update the one match, create if none, 412 if several. */
export async function conditionalUpdate(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const criteria = parseCriteria(req.query.toString());
  const resource = requireResource(req.body, type);
  assertValid(ctx, resource);
  const ifMatch = parseIfMatch(req.headers['if-match']);
  const scope = scopeOf(ctx, req);
  const writer = { ...writerOf(req), scope };
  const { written, created } = await inTransaction(ctx.db, async (tx) => {
    await lockKey(tx, `conditional:${normalizeCriteria(type, criteria)}`);
    const matches = await matchResourceIds(tx, scope, type, criteria, 2);
    if (matches.length > 1) throw FhirError.preconditionFailed(`The criteria matched more than one ${type}`);
    if (matches.length === 1) {
      if (resource.id !== undefined && resource.id !== matches[0]) {
        throw FhirError.badRequest(`The resource id '${String(resource.id)}' differs from the matched ${type}/${matches[0]}`, {
          code: 'NHIS-1008',
          expression: [`${type}.id`],
        });
      }
      return updateResource(ctx, tx, writer, resource, matches[0], ifMatch);
    }
    const id = typeof resource.id === 'string' ? resource.id : ctx.ids.newId();
    return updateResource(ctx, tx, writer, resource, id, ifMatch);
  });
  return writtenResponse(req, written, created ? 201 : 200, `${created ? 'Created' : 'Updated'} ${type}/${written.id}`);
}
