// https://hl7.org/fhir/R4/http.html#vread
import { FhirError } from '../../errors/fhir-error';
import { readCurrent, readVersion } from '../../repository/resources';
import { assertInCompartment, assertMatchesGrant } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { storedResponse } from '../respond';
import { requireKnownType, requireValidId } from '../resource-body';

export async function vread(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const id = requireValidId(req.params.id);
  const vid = req.params.vid ?? '';
  if (!/^\d{1,9}$/.test(vid)) throw FhirError.notFound(`Version '${vid}' of ${type}/${id} is not known`);
  await assertInCompartment(ctx.db, req.access, type, id);
  await assertMatchesGrant(ctx, req.access, type, id);
  const stored = await readVersion(ctx.db, type, id, Number(vid));
  if (!stored) {
    const exists = await readCurrent(ctx.db, type, id);
    throw FhirError.notFound(exists ? `${type}/${id} has no version ${vid}` : `${type}/${id} is not known`);
  }
  if (stored.deleted) throw FhirError.gone(`Version ${vid} of ${type}/${id} is a deletion`);
  return storedResponse(stored);
}
