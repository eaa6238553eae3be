// https://hl7.org/fhir/R4/http.html#read
import { FhirError } from '../../errors/fhir-error';
import { readAuditEvent } from '../../store/audit/audit-search';
import { readResource } from '../../store/read';
import { requireKnownType, requireValidId } from '../../store/resource-body';
import { AUDIT_EVENT } from '../../store/stored-types';
import { scopeOf } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { storedResponse } from '../respond';

export async function read(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const type = requireKnownType(req.params.type);
  const id = requireValidId(req.params.id);
  const scope = scopeOf(ctx, req);
  if (type === AUDIT_EVENT) {
    const event = await readAuditEvent(ctx.db, scope, id);
    if (!event) throw FhirError.notFound(`${type}/${id} is not known`);
    return { status: 200, headers: { ETag: 'W/"1"', 'Last-Modified': new Date(event.recorded).toUTCString() }, body: event };
  }
  const stored = await readResource(ctx.db, scope, type, id);
  if (!stored) throw FhirError.notFound(`${type}/${id} is not known`);
  if (stored.deleted) {
    throw FhirError.gone(`${type}/${id} was deleted`, {
      headers: { ETag: `W/"${stored.versionId}"`, 'Last-Modified': stored.lastUpdated.toUTCString() },
    });
  }
  return storedResponse(stored);
}
