// https://hl7.org/fhir/R4/http.html#read
import { FhirError } from '../../errors/fhir-error';
import { readCurrent } from '../../repository/resources';
import { assertInCompartment, assertMatchesGrant } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { storedResponse } from '../respond';
import { requireKnownType, requireValidId } from '../resource-body';

export async function read(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const id = requireValidId(req.params.id);
  const stored = await readCurrent(ctx.db, type, id);
  if (!stored) throw FhirError.notFound(`${type}/${id} is not known`);
  await assertInCompartment(ctx.db, req.access, type, id);
  await assertMatchesGrant(ctx, req.access, type, id);
  if (stored.deleted) {
    throw FhirError.gone(`${type}/${id} was deleted`, {
      headers: { ETag: `W/"${stored.versionId}"`, 'Last-Modified': stored.lastUpdated.toUTCString() },
    });
  }
  return storedResponse(stored);
}
