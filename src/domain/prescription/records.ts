import type { Principal } from '../../auth/principal';
import { FhirError } from '../../errors/fhir-error';
import { insertPrescriptionEvent, type PrescriptionRow, type PrescriptionState } from '../../repository/prescriptions';
import { parseJson } from '../../shared/json';
import { FACILITY_CODE_SYSTEM } from '../../shared/registry-systems';
import { SERVER_SCOPE } from '../../store/access/access-scope';
import { readResource as readStored } from '../../store/read';
import type { ResourceBody } from '../../store/resource-body';
import type { StoreContext } from '../../store/store-context';
import type { Tx } from '../../store/transaction';
import { updateResource, type WrittenVersion } from '../../store/write/write-resources';
import { asWorkflow, type Writer } from '../../store/write/writer';

/**
 * What the workflow writes besides the prescription row: the timeline row of every state change,
 * and the new versions of the Task and MedicationRequest — written through the store as workflow
 * steps (the store validates them and records one AuditEvent per version, under the actor).
 */
export interface PrescriptionEvent {
  row: PrescriptionRow;
  action: 'prescribe' | 'accept' | 'reject' | 'dispense' | 'close' | 'abort' | 'expire' | 'lease-expired';
  from?: PrescriptionState;
  to: PrescriptionState;
  /** Absent for the server's own scheduled changes. */
  principal?: Principal;
  reason?: string;
  detail?: Record<string, unknown>;
}

/** The timeline row of a state change (served by `$timeline`), in the caller's transaction. */
export async function recordPrescriptionEvent(ctx: Pick<StoreContext, 'clock'>, tx: Tx, e: PrescriptionEvent): Promise<void> {
  await insertPrescriptionEvent(tx, {
    taskId: e.row.taskId,
    medicationRequestId: e.row.medicationRequestId,
    at: ctx.clock.now(),
    action: e.action,
    fromState: e.from,
    toState: e.to,
    actorClient: e.principal?.clientId ?? (e.principal ? undefined : 'server'),
    actorOrg: e.principal?.organization,
    actorRole: e.principal?.role,
    reason: e.reason,
    detail: e.detail,
  });
}

const TASK_STATUS: Record<PrescriptionState, string> = {
  ready: 'ready',
  'in-progress': 'in-progress',
  completed: 'completed',
  cancelled: 'cancelled',
  expired: 'failed',
};

/** A resource of the prescription, read by the workflow itself (the caller's rights were checked by the step). */
export async function readResource(tx: Tx, type: string, id: string): Promise<ResourceBody> {
  const stored = await readStored(tx, SERVER_SCOPE, type, id);
  if (!stored || stored.deleted || !stored.content) throw FhirError.conflict(`${type}/${id} of the prescription is missing`);
  return parseJson(stored.content) as ResourceBody;
}

/** A new Task version mirroring the prescription row (status, owner, remaining fills). */
export async function updateTask(ctx: StoreContext, tx: Tx, actor: Writer, row: PrescriptionRow, reason?: string): Promise<WrittenVersion> {
  const task = await readResource(tx, 'Task', row.taskId);
  const next: ResourceBody = { ...task, status: TASK_STATUS[row.state], lastModified: ctx.clock.now().toISOString() };
  delete next.owner;
  delete next.statusReason;
  if (row.state === 'in-progress' && row.ownerOrg) next.owner = { identifier: { system: FACILITY_CODE_SYSTEM, value: row.ownerOrg } };
  if (reason) next.statusReason = { text: reason };
  next.businessStatus = { text: `fills used ${row.fillsUsed} of ${row.fillsAllowed}; dispensed ${row.quantityDispensed} of ${row.quantityPrescribed}` };
  return (await updateResource(ctx, tx, asWorkflow(actor), next, row.taskId)).written;
}

/** The MedicationRequest's own status once the prescription ends. */
export async function updateMedicationRequestStatus(
  ctx: StoreContext,
  tx: Tx,
  actor: Writer,
  row: PrescriptionRow,
  status: 'completed' | 'cancelled' | 'stopped',
  reason?: string,
): Promise<WrittenVersion> {
  const mr = await readResource(tx, 'MedicationRequest', row.medicationRequestId);
  const next: ResourceBody = { ...mr, status };
  if (reason) next.statusReason = { text: reason };
  return (await updateResource(ctx, tx, asWorkflow(actor), next, row.medicationRequestId)).written;
}
