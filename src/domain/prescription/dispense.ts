import type { Principal } from '../../auth/principal';
import { FhirError } from '../../errors/fhir-error';
import { addDispensed, closeClaim, listPrescriptionEvents, type PrescriptionRow, type TransitionedRow } from '../../repository/prescriptions';
import type { ResourceBody } from '../../store/resource-body';
import type { StoreContext as FhirContext } from '../../store/store-context';
import { inTransaction, type Tx } from '../../store/transaction';
import { assertValid } from '../../store/write/validate-resource';
import { createResource, type WrittenVersion } from '../../store/write/write-resources';
import { asWorkflow, type Writer } from '../../store/write/writer';
import { requirePharmacy, serverKey } from './actors';
import { requireSecret, resolveClaim } from './claim';
import { PRESCRIPTION_CODES } from './errors';
import { FACILITY_CODE_SYSTEM } from '../registry/registry-systems';
import { readResource, recordPrescriptionEvent, updateMedicationRequestStatus, updateTask } from './records';
import { signReceipt, type ReceiptClaims } from './receipt';
import { sha256Hex } from './secrets';
import { stringifyJson } from '../../shared/json';

/**
 * `$dispense` records MedicationDispenses under a live claim (partial
 * dispense); `$close` records the final one and ends the claim: completed
 * when no fill or quantity remains, ready for the next fill otherwise. The
 * quantity check is in the compare-and-set and, as a backstop, a CHECK
 * constraint: dispensed never exceeds prescribed.
 */
function quantityOf(d: ResourceBody, index: number): number {
  const raw = (d.quantity as { value?: unknown } | undefined)?.value;
  const q = raw === undefined ? NaN : Number(String(raw));
  if (!Number.isFinite(q) || q <= 0) {
    throw FhirError.unprocessable('Each MedicationDispense needs a positive quantity.value', {
      code: PRESCRIPTION_CODES.dispenseInvalid,
      expression: [`MedicationDispense[${index}].quantity`],
    });
  }
  return q;
}

function completeDispense(d: ResourceBody, row: PrescriptionRow, pharmacy: string, now: Date): ResourceBody {
  return {
    ...d,
    status: 'completed',
    subject: { reference: `Patient/${row.patientId}` },
    authorizingPrescription: [{ reference: `MedicationRequest/${row.medicationRequestId}` }],
    performer: [{ actor: { identifier: { system: FACILITY_CODE_SYSTEM, value: pharmacy } } }],
    supportingInformation: [{ reference: `Task/${row.taskId}` }],
    whenHandedOver: typeof d.whenHandedOver === 'string' ? d.whenHandedOver : now.toISOString(),
  };
}

/** Checks the dispenses before any transaction; returns them with their total quantity. */
export function checkDispenses(ctx: FhirContext, dispenses: ResourceBody[]): { dispenses: ResourceBody[]; total: number } {
  let total = 0;
  dispenses.forEach((d, i) => {
    if (d.resourceType !== 'MedicationDispense') {
      throw FhirError.badRequest(`Expected MedicationDispense, got ${d.resourceType}`, { code: PRESCRIPTION_CODES.dispenseInvalid, expression: [`MedicationDispense[${i}]`] });
    }
    total += quantityOf(d, i);
  });
  for (const d of dispenses) assertValid(ctx, { ...d, status: 'completed', subject: { reference: 'Patient/x' } });
  return { dispenses, total: Math.round(total * 1e6) / 1e6 };
}

async function explainFailure(ctx: FhirContext, tx: Tx, pharmacy: Principal & { organization: string }, taskId: string, secret: string, key: string, total: number): Promise<never> {
  const row = await resolveClaim(ctx, tx, pharmacy, taskId, secret, key);
  if (row.claimDispensed + total <= 0) {
    throw FhirError.unprocessable(`Nothing was dispensed under this claim of ${row.number}: use $reject to give it back`, { code: PRESCRIPTION_CODES.nothingDispensed });
  }
  throw FhirError.unprocessable(
    `Dispensing ${total} exceeds what remains of ${row.number}: ${row.quantityPrescribed - row.quantityDispensed} in total, ${row.quantityPerFill - row.claimDispensed} in this fill`,
    { code: PRESCRIPTION_CODES.quantityExceeded, expression: ['MedicationDispense.quantity'] },
  );
}

async function storeDispenses(ctx: FhirContext, tx: Tx, writer: Writer, row: PrescriptionRow, pharmacy: string, dispenses: ResourceBody[]): Promise<WrittenVersion[]> {
  const out: WrittenVersion[] = [];
  for (const d of dispenses) out.push(await createResource(ctx, tx, asWorkflow(writer), completeDispense(d, row, pharmacy, ctx.clock.now())));
  return out;
}

export interface DispenseResult {
  row: TransitionedRow;
  dispenses: WrittenVersion[];
  task: WrittenVersion;
}

export async function dispensePrescription(ctx: FhirContext, writer: Writer, taskId: string, secret: string | null, input: ResourceBody[]): Promise<DispenseResult> {
  const pharmacy = requirePharmacy(writer.principal);
  const presented = requireSecret(secret);
  if (input.length === 0) throw FhirError.badRequest('$dispense needs at least one MedicationDispense', { code: PRESCRIPTION_CODES.dispenseInvalid });
  const { dispenses, total } = checkDispenses(ctx, input);
  const key = await serverKey(ctx);
  return inTransaction(ctx.db, async (tx) => {
    const claim = await resolveClaim(ctx, tx, pharmacy, taskId, presented, key);
    const row = await addDispensed(tx, { taskId, claimCounter: claim.claimCounter, quantity: total, now: ctx.clock.now() });
    if (!row) return explainFailure(ctx, tx, pharmacy, taskId, presented, key, total);
    const written = await storeDispenses(ctx, tx, writer, row, pharmacy.organization, dispenses);
    await recordPrescriptionEvent(ctx, tx, {
      row,
      action: 'dispense',
      from: 'in-progress',
      to: 'in-progress',
      principal: pharmacy,
      detail: { quantity: total, dispenses: summarize(written) },
    });
    return { row, dispenses: written, task: await updateTask(ctx, tx, writer, row) };
  });
}

export interface CloseResult extends DispenseResult {
  medicationRequest?: WrittenVersion;
  receipt: string;
  claims: ReceiptClaims;
}

export async function closePrescription(ctx: FhirContext, writer: Writer, taskId: string, secret: string | null, input: ResourceBody[], issuer: string): Promise<CloseResult> {
  const pharmacy = requirePharmacy(writer.principal);
  const presented = requireSecret(secret);
  const { dispenses, total } = checkDispenses(ctx, input);
  const key = await serverKey(ctx);
  const done = await inTransaction(ctx.db, async (tx) => {
    const claim = await resolveClaim(ctx, tx, pharmacy, taskId, presented, key, 'in-progress (claimed)');
    const row = await closeClaim(tx, { taskId, claimCounter: claim.claimCounter, quantity: total, now: ctx.clock.now() });
    if (!row) return explainFailure(ctx, tx, pharmacy, taskId, presented, key, total);
    const consumed = await readResource(tx, 'MedicationRequest', row.medicationRequestId);
    const consumedHash = sha256Hex(stringifyJson(consumed));
    const written = await storeDispenses(ctx, tx, writer, row, pharmacy.organization, dispenses);
    await recordPrescriptionEvent(ctx, tx, {
      row,
      action: 'close',
      from: 'in-progress',
      to: row.state,
      principal: pharmacy,
      reason: row.state === 'completed' ? 'nothing remains' : `fill ${row.fillsUsed} of ${row.fillsAllowed} done`,
      detail: { quantity: total, dispenses: summarize(written) },
    });
    const task = await updateTask(ctx, tx, writer, row);
    const medicationRequest = row.state === 'completed' ? await updateMedicationRequestStatus(ctx, tx, writer, row, 'completed') : undefined;
    const all = await listClaimDispenses(tx, row, written);
    const claims: ReceiptClaims = {
      prescriptionNumber: row.number,
      task: `Task/${row.taskId}/_history/${task.versionId}`,
      medicationRequest: { reference: `MedicationRequest/${row.medicationRequestId}/_history/${(consumed.meta as { versionId?: string } | undefined)?.versionId ?? ''}`, sha256: consumedHash },
      dispenses: all,
      pharmacy: pharmacy.organization,
      quantityDispensed: row.quantityDispensed,
      quantityPrescribed: row.quantityPrescribed,
      fillsUsed: row.fillsUsed,
      fillsAllowed: row.fillsAllowed,
      state: row.state,
    };
    return { row, dispenses: written, task, medicationRequest, claims };
  });
  const receipt = await signReceipt(ctx, issuer, done.claims);
  return { ...done, receipt };
}

/** The dispenses of the closed claim: those of earlier `$dispense` calls of the same claim (from the timeline) and the final ones. */
async function listClaimDispenses(tx: Tx, row: PrescriptionRow, written: WrittenVersion[]): Promise<ReceiptClaims['dispenses']> {
  const events = await listPrescriptionEvents(tx, row.medicationRequestId);
  const lastAccept = events.map((e) => e.action).lastIndexOf('accept');
  const earlier = events
    .slice(lastAccept + 1)
    .filter((e) => e.action === 'dispense')
    .flatMap((e) => (e.detail?.dispenses as ReceiptClaims['dispenses'] | undefined) ?? []);
  return [...earlier, ...summarize(written)];
}

function summarize(written: WrittenVersion[]): ReceiptClaims['dispenses'] {
  return written.map((w) => ({
    reference: `MedicationDispense/${w.id}/_history/${w.versionId}`,
    quantity: Number(String((w.resource.quantity as { value?: unknown }).value)),
    whenHandedOver: w.resource.whenHandedOver as string,
  }));
}
