import { FACILITY_CODE_SYSTEM } from '../registry/registry-systems';
import type { Principal } from '../../auth/principal';
import { buildAuditEvent } from '../../domain/audit/build-audit-event';
import { recordAudit } from '../../domain/audit/record-audit';
import { FhirError } from '../../errors/fhir-error';
import type { FhirContext } from '../../fhir/context';
import { writeUpdate, type WrittenVersion } from '../../fhir/persist';
import type { ResourceBody } from '../../fhir/resource-body';
import { insertPrescriptionEvent, type PrescriptionRow, type PrescriptionState } from '../../repository/prescriptions';
import { readCurrent } from '../../repository/resources';
import type { Tx } from '../../repository/transaction';
import { parseJson } from '../../shared/json';

/**
 * What the workflow writes besides the prescription row: the timeline row and
 * AuditEvent of every state change, and the new versions of the Task and
 * MedicationRequest. Writes by the workflow are marked per transaction so the
 * write hook can refuse the same writes from clients.
 */
const workflowWrites = new WeakMap<Tx, Set<string>>();

export function allowWorkflowWrite(tx: Tx, resourceType: string, id: string): void {
  let set = workflowWrites.get(tx);
  if (!set) workflowWrites.set(tx, (set = new Set()));
  set.add(`${resourceType}/${id}`);
}

export function isWorkflowWrite(tx: Tx, resourceType: string, id: string): boolean {
  return workflowWrites.get(tx)?.has(`${resourceType}/${id}`) ?? false;
}

export interface PrescriptionEvent {
  row: PrescriptionRow;
  action: 'prescribe' | 'accept' | 'reject' | 'dispense' | 'close' | 'abort' | 'expire' | 'lease-expired';
  from?: PrescriptionState;
  to: PrescriptionState;
  /** Absent for the server's own scheduled changes. */
  principal?: Principal;
  reason?: string;
  detail?: Record<string, unknown>;
  requestId: string;
}

/**
 * The one seam every state change goes through: a timeline row (served by
 * `$timeline`) and an AuditEvent (IHE BALP shape, searchable), both in the
 * caller's transaction.
 */
export async function recordPrescriptionEvent(ctx: FhirContext, tx: Tx, e: PrescriptionEvent): Promise<void> {
  const at = ctx.clock.now();
  await insertPrescriptionEvent(tx, {
    taskId: e.row.taskId,
    medicationRequestId: e.row.medicationRequestId,
    at,
    action: e.action,
    fromState: e.from,
    toState: e.to,
    actorClient: e.principal?.clientId ?? (e.principal ? undefined : 'server'),
    actorOrg: e.principal?.organization,
    actorRole: e.principal?.role,
    reason: e.reason,
    detail: e.detail,
  });
  const event = buildAuditEvent({
    principal: e.principal,
    claimedClientId: e.principal ? undefined : 'opennhis-server',
    interaction: e.action === 'prescribe' ? 'create' : 'operation',
    resourceType: 'Task',
    id: e.row.taskId,
    operation: e.action === 'prescribe' ? undefined : `$${e.action}`,
    patientIds: [e.row.patientId],
    outcome: 'success',
    outcomeDescription: `prescription ${e.row.number}: ${e.from ?? '(new)'} -> ${e.to}${e.reason ? ` (${e.reason})` : ''}`,
    requestId: e.requestId,
    when: at,
  });
  await recordAudit(ctx, tx, event);
}

const TASK_STATUS: Record<PrescriptionState, string> = {
  ready: 'ready',
  'in-progress': 'in-progress',
  completed: 'completed',
  cancelled: 'cancelled',
  expired: 'failed',
};


async function readResource(tx: Tx, type: string, id: string): Promise<ResourceBody> {
  const stored = await readCurrent(tx, type, id);
  if (!stored || stored.deleted || !stored.content) throw FhirError.conflict(`${type}/${id} of the prescription is missing`);
  return parseJson(stored.content) as ResourceBody;
}

/** A new Task version mirroring the prescription row (status, owner, remaining fills). */
export async function updateTask(ctx: FhirContext, tx: Tx, row: PrescriptionRow, reason?: string): Promise<WrittenVersion> {
  const task = await readResource(tx, 'Task', row.taskId);
  const next: ResourceBody = { ...task, status: TASK_STATUS[row.state], lastModified: ctx.clock.now().toISOString() };
  delete next.owner;
  delete next.statusReason;
  if (row.state === 'in-progress' && row.ownerOrg) next.owner = { identifier: { system: FACILITY_CODE_SYSTEM, value: row.ownerOrg } };
  if (reason) next.statusReason = { text: reason };
  next.businessStatus = { text: `fills used ${row.fillsUsed} of ${row.fillsAllowed}; dispensed ${row.quantityDispensed} of ${row.quantityPrescribed}` };
  allowWorkflowWrite(tx, 'Task', row.taskId);
  return (await writeUpdate(ctx, tx, next, row.taskId)).written;
}

/** The MedicationRequest's own status once the prescription ends. */
export async function updateMedicationRequestStatus(
  ctx: FhirContext,
  tx: Tx,
  row: PrescriptionRow,
  status: 'completed' | 'cancelled' | 'stopped',
  reason?: string,
): Promise<WrittenVersion> {
  const mr = await readResource(tx, 'MedicationRequest', row.medicationRequestId);
  const next: ResourceBody = { ...mr, status };
  if (reason) next.statusReason = { text: reason };
  allowWorkflowWrite(tx, 'MedicationRequest', row.medicationRequestId);
  return (await writeUpdate(ctx, tx, next, row.medicationRequestId)).written;
}

export { readResource };
