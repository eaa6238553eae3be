import { readPatientRecordPage, type PatientRecordRow } from '../repository/patient-record';
import type { Db } from '../repository/db';
import { RESOURCE_TYPES } from '../shared/resource-types';
import { scopeFilter } from './access/access-filter';
import type { AccessScope } from './access/access-scope';
import { readResource } from './read';
import { patientCompartmentParams } from './search/definitions';
import { AUDIT_EVENT } from './stored-types';

/**
 * A patient's whole record, page by page (Patient/$everything): the Patient and every current
 * resource in its compartment that the scope lets the caller read — types it may not read are left
 * out, and the scope's own conditions apply to each row in the query.
 */
export interface PatientRecordPageQuery {
  /** Only these types (`_type`); undefined: all. */
  types?: string[];
  since?: Date;
  after?: { resourceType: string; id: string };
  limit: number;
}

/** Every type that can be in a Patient compartment, and the parameters that put it there (AuditEvents are the access log, not the record). */
const COMPARTMENT = RESOURCE_TYPES.map((t) => ({ resourceType: t, params: t === 'Patient' ? ['link'] : patientCompartmentParams(t) })).filter(
  (c) => c.resourceType !== AUDIT_EVENT && (c.resourceType === 'Patient' || c.params.length > 0),
);

/** Undefined when the Patient does not exist or the caller may not see it. */
export async function readPatientRecord(db: Db, scope: AccessScope, patientId: string, q: PatientRecordPageQuery): Promise<PatientRecordRow[] | undefined> {
  const patient = await readResource(db, scope, 'Patient', patientId);
  if (!patient || patient.deleted) return undefined;
  const visible = COMPARTMENT.filter((c) => (!q.types || q.types.includes(c.resourceType)) && scope.on(c.resourceType, 'read'));
  if (visible.length === 0) return [];
  return readPatientRecordPage(db, {
    patientId,
    compartmentParams: visible,
    since: q.since,
    after: q.after,
    limit: q.limit,
    visible: scopeFilter(scope, visible.map((c) => c.resourceType), 'read'),
  });
}
