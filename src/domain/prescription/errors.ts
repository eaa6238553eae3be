import { FhirError } from '../../errors/fhir-error';
import type { PrescriptionRow } from '../../repository/prescriptions';

/**
 * Stable codes of the ePrescription workflow (NHIS-60xx). Integrators search
 * for these, so a code keeps its meaning once published.
 */
export const PRESCRIPTION_CODES = {
  notEPrescription: 'NHIS-6001',
  patientUnknown: 'NHIS-6002',
  patientDeceased: 'NHIS-6003',
  prescriberUnknown: 'NHIS-6004',
  quantityMissing: 'NHIS-6005',
  validityInvalid: 'NHIS-6006',
  useWorkflow: 'NHIS-6007',
  groupMismatch: 'NHIS-6008',
  numberInvalid: 'NHIS-6009',
  taskUnknown: 'NHIS-6010',
  wrongAccessCode: 'NHIS-6011',
  wrongSecret: 'NHIS-6012',
  notClaimant: 'NHIS-6013',
  wrongState: 'NHIS-6014',
  expired: 'NHIS-6015',
  leaseLapsed: 'NHIS-6016',
  quantityExceeded: 'NHIS-6017',
  nothingDispensed: 'NHIS-6018',
  dispenseInvalid: 'NHIS-6019',
  actorRequired: 'NHIS-6020',
  actorNotAllowed: 'NHIS-6021',
  duplicateTherapy: 'NHIS-6030',
  interaction: 'NHIS-6031',
} as const;

export function unknownTask(taskId: string): FhirError {
  return FhirError.notFound(`Task/${taskId} is not a prescription Task`, { code: PRESCRIPTION_CODES.taskUnknown });
}

/** 409 naming the current state (410 for an expired prescription). */
export function wrongState(row: PrescriptionRow, wanted: string, now: Date): FhirError {
  if (row.state === 'expired') return expiredError(row);
  if (row.state === 'in-progress' && row.leaseExpiresAt && row.leaseExpiresAt <= now) {
    return FhirError.conflict(`Prescription ${row.number} is not ${wanted}: the pharmacy's claim lapsed at ${row.leaseExpiresAt.toISOString()}, the Task is ready again`, {
      code: PRESCRIPTION_CODES.leaseLapsed,
    });
  }
  const holder = row.state === 'in-progress' ? ' (claimed by a pharmacy)' : '';
  return FhirError.conflict(`Prescription ${row.number} is ${row.state}${holder}, not ${wanted}`, { code: PRESCRIPTION_CODES.wrongState, expression: ['Task.status'] });
}

export function expiredError(row: PrescriptionRow): FhirError {
  return FhirError.gone(`Prescription ${row.number} expired: its validity period ended at ${row.validityEnd.toISOString()}`, { code: PRESCRIPTION_CODES.expired });
}
