import type { Principal } from '../../auth/principal';
import { FhirError } from '../../errors/fhir-error';
import { cancelPrescription, findPrescription, type PrescriptionRow } from '../../repository/prescriptions';
import type { StoreContext } from '../../store/store-context';
import { inTransaction } from '../../store/transaction';
import type { WrittenVersion } from '../../store/write/write-resources';
import type { Writer } from '../../store/write/writer';
import { requirePrincipal } from './actors';
import { PRESCRIPTION_CODES, unknownTask, wrongState } from './errors';
import { recordPrescriptionEvent, updateMedicationRequestStatus, updateTask } from './records';

/** Who may cancel: the prescribing organization's prescribers, or the patient the prescription is for. */
function mayAbort(p: Principal, row: PrescriptionRow): boolean {
  if (p.role === 'prescriber') return !row.prescriberOrg || row.prescriberOrg === p.organization;
  if (p.role === 'patient') return !!p.patientId && p.patientId === row.patientId;
  return false;
}

/** `$abort`: ready → cancelled; refused (409) while a pharmacy holds a live claim. */
export async function abortPrescription(ctx: StoreContext, writer: Writer, taskId: string, reason?: string): Promise<{ row: PrescriptionRow; task: WrittenVersion }> {
  const actor = requirePrincipal(writer.principal);
  return inTransaction(ctx.db, async (tx) => {
    const current = await findPrescription(tx, taskId);
    // To a patient, another patient's prescription does not exist (a 403 would tell it does).
    if (!current || (actor.role === 'patient' && !mayAbort(actor, current))) throw unknownTask(taskId);
    if (!mayAbort(actor, current)) {
      throw FhirError.forbidden(`Only the prescriber's organization or the patient may cancel prescription ${current.number}`, { code: PRESCRIPTION_CODES.actorNotAllowed });
    }
    const row = await cancelPrescription(tx, { taskId, now: ctx.clock.now() });
    if (!row) throw wrongState((await findPrescription(tx, taskId)) ?? current, 'ready (cancellable)', ctx.clock.now());
    const why = reason ?? `cancelled by the ${actor.role}`;
    await recordPrescriptionEvent(ctx, tx, { row, action: 'abort', from: row.previousState, to: 'cancelled', principal: actor, reason: why });
    const task = await updateTask(ctx, tx, writer, row, why);
    await updateMedicationRequestStatus(ctx, tx, writer, row, 'cancelled', why);
    return { row, task };
  });
}
