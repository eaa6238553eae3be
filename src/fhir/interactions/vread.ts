// https://hl7.org/fhir/R4/http.html#vread
import { FhirError } from '../../errors/fhir-error';
import { readAuditEvent } from '../../store/audit/audit-search';
import { readResourceVersion } from '../../store/read';
import { requireKnownType, requireValidId } from '../../store/resource-body';
import { AUDIT_EVENT } from '../../store/stored-types';
import { scopeOf } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { storedResponse } from '../respond';

export async function vread(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const id = requireValidId(req.params.id);
  const vid = req.params.vid ?? '';
  if (!/^\d{1,9}$/.test(vid)) throw FhirError.notFound(`Version '${vid}' of ${type}/${id} is not known`);
  const scope = scopeOf(ctx, req);
  if (type === AUDIT_EVENT) {
    // AuditEvents are never changed: version 1 is the only one.
    const event = vid === '1' ? await readAuditEvent(ctx.db, scope, id) : undefined;
    if (!event) throw FhirError.notFound(`${type}/${id} has no version ${vid}`);
    return { status: 200, headers: { ETag: 'W/"1"' }, body: event };
  }
  const { version, exists } = await readResourceVersion(ctx.db, scope, type, id, Number(vid));
  if (!version) throw FhirError.notFound(exists ? `${type}/${id} has no version ${vid}` : `${type}/${id} is not known`);
  if (version.deleted) throw FhirError.gone(`Version ${vid} of ${type}/${id} is a deletion`);
  return storedResponse(version);
}
