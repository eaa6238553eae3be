import type { Principal } from '../../auth/principal';
import { FhirError } from '../../errors/fhir-error';
import type { StoreContext as FhirContext } from '../../store/store-context';
import { findPrescriptionByMedicationRequest, listPrescriptionEvents, type PrescriptionEventRow, type PrescriptionRow } from '../../repository/prescriptions';
import { guarded } from '../../repository/transaction';
import { requirePrincipal } from './actors';
import { PRESCRIPTION_CODES } from './errors';

const READERS = new Set(['prescriber', 'pharmacy', 'hospital', 'auditor', 'patient']);

/** Every state change of one prescription, oldest first: one call settles a dispute. */
export async function readTimeline(ctx: FhirContext, principal: Principal | undefined, medicationRequestId: string): Promise<{ row: PrescriptionRow; events: PrescriptionEventRow[] }> {
  const actor = requirePrincipal(principal);
  if (!READERS.has(actor.role)) throw FhirError.forbidden(`Role ${actor.role} may not read prescription timelines`, { code: PRESCRIPTION_CODES.actorNotAllowed });
  const row = await guarded(() => findPrescriptionByMedicationRequest(ctx.db, medicationRequestId));
  // A patient asking about someone else's prescription learns nothing, not even that it exists.
  if (!row || (actor.role === 'patient' && actor.patientId !== row.patientId)) {
    throw FhirError.notFound(`MedicationRequest/${medicationRequestId} is not an ePrescription`, { code: PRESCRIPTION_CODES.taskUnknown });
  }
  return { row, events: await guarded(() => listPrescriptionEvents(ctx.db, medicationRequestId)) };
}
