import { FhirError, type Issue } from '../../errors/fhir-error';
import {
  findPrescription,
  findPrescriptionByMedicationRequest,
  insertPrescription,
  listOpenPrescriptionsOfPatient,
  nextPrescriptionSerial,
  type PrescriptionRow,
} from '../../repository/prescriptions';
import { parseJson } from '../../shared/json';
import { SERVER_SCOPE } from '../../store/access/access-scope';
import { readResource } from '../../store/read';
import type { ResourceBody } from '../../store/resource-body';
import { matchResourceIds } from '../../store/search/search-resources';
import type { StoreContext } from '../../store/store-context';
import type { Tx } from '../../store/transaction';
import type { WriteHook } from '../../store/write/write-hooks';
import { createResource, type WrittenVersion } from '../../store/write/write-resources';
import { asWorkflow, type Writer } from '../../store/write/writer';
import { requirePrincipal } from './actors';
import { PRESCRIPTION_CODES } from './errors';
import { formatPrescriptionNumber, PRESCRIPTION_NUMBER_SYSTEM } from './prescription-number';
import { recordPrescriptionEvent } from './records';
import { atcCodeOf, safetyWarnings } from './safety-warnings';
import { generateAccessCode, hashAccessCode } from './secrets';

/**
 * Prescribing, as plain steps through the store: a MedicationRequest (intent `order`) gets a
 * national prescription number, then a server-owned Task (`ready`), a prescription row and an
 * access code — all in the caller's transaction. The access code leaves the server only in the
 * response of the request that made it.
 */
export const EPRESCRIPTION_PROFILE = 'http://opennhis.org/fhir/StructureDefinition/eprescription-medication-request';

interface PendingPrescription {
  number: string;
  patientId: string;
  quantityPerFill: number;
  fillsAllowed: number;
  validityEnd: Date;
  atcCode?: string;
  groupId?: string;
}

export interface PrescribedItem {
  number: string;
  accessCode: string;
  medicationRequest: WrittenVersion;
  task: WrittenVersion;
  row: PrescriptionRow;
}

function num(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = Number(String(v));
  return Number.isFinite(n) ? n : undefined;
}

function unprocessable(code: string, message: string, expression: string): FhirError {
  return FhirError.unprocessable(message, { code, expression: [expression] });
}

function declaresProfile(resource: Record<string, unknown>): boolean {
  const profiles = (resource.meta as { profile?: unknown } | undefined)?.profile;
  return Array.isArray(profiles) && profiles.includes(EPRESCRIPTION_PROFILE);
}

export function isEPrescription(resource: Record<string, unknown>): boolean {
  return resource.resourceType === 'MedicationRequest' && declaresProfile(resource);
}

function relativeId(reference: unknown, types: string[]): { type: string; id: string } | undefined {
  if (typeof reference !== 'string') return undefined;
  const m = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(reference);
  return m && types.includes(m[1]) ? { type: m[1], id: m[2] } : undefined;
}

/** The checks and defaults of an ePrescription, in the write transaction (the patient and prescriber must exist now). */
async function preparePrescription(ctx: StoreContext, tx: Tx, mr: ResourceBody): Promise<{ resource: ResourceBody; pending: PendingPrescription }> {
  if (mr.intent !== 'order') throw unprocessable(PRESCRIPTION_CODES.notEPrescription, `An ePrescription has intent 'order', not '${String(mr.intent)}'`, 'MedicationRequest.intent');
  if (mr.status !== 'active') throw unprocessable(PRESCRIPTION_CODES.notEPrescription, `A new ePrescription has status 'active', not '${String(mr.status)}'`, 'MedicationRequest.status');
  const identifiers = Array.isArray(mr.identifier) ? (mr.identifier as { system?: string }[]) : [];
  if (identifiers.some((i) => i.system === PRESCRIPTION_NUMBER_SYSTEM)) {
    throw unprocessable(PRESCRIPTION_CODES.notEPrescription, 'The prescription number is assigned by the server', 'MedicationRequest.identifier');
  }

  const subject = relativeId((mr.subject as { reference?: unknown } | undefined)?.reference, ['Patient']);
  if (!subject) throw unprocessable(PRESCRIPTION_CODES.patientUnknown, 'subject must reference a Patient as Patient/{id}', 'MedicationRequest.subject');
  const patientStored = await readResource(tx, SERVER_SCOPE, 'Patient', subject.id);
  if (!patientStored || patientStored.deleted || !patientStored.content) {
    throw unprocessable(PRESCRIPTION_CODES.patientUnknown, `Patient/${subject.id} does not exist`, 'MedicationRequest.subject');
  }
  const patient = parseJson(patientStored.content) as Record<string, unknown>;
  if (patient.deceasedBoolean === true || typeof patient.deceasedDateTime === 'string') {
    throw unprocessable(PRESCRIPTION_CODES.patientDeceased, `Patient/${subject.id} is recorded as deceased`, 'MedicationRequest.subject');
  }
  if (patient.active === false) throw unprocessable(PRESCRIPTION_CODES.patientUnknown, `Patient/${subject.id} is not active`, 'MedicationRequest.subject');

  const requester = relativeId((mr.requester as { reference?: unknown } | undefined)?.reference, ['Practitioner', 'PractitionerRole']);
  if (!requester) {
    throw unprocessable(PRESCRIPTION_CODES.prescriberUnknown, 'requester must reference the prescriber as Practitioner/{id} or PractitionerRole/{id}', 'MedicationRequest.requester');
  }
  const prescriber = await readResource(tx, SERVER_SCOPE, requester.type, requester.id);
  if (!prescriber || prescriber.deleted || !prescriber.content) {
    throw unprocessable(PRESCRIPTION_CODES.prescriberUnknown, `${requester.type}/${requester.id} does not exist`, 'MedicationRequest.requester');
  }
  const prescriberResource = parseJson(prescriber.content) as { active?: unknown; period?: { start?: string; end?: string } };
  if (prescriberResource.active === false) {
    throw unprocessable(PRESCRIPTION_CODES.prescriberUnknown, `${requester.type}/${requester.id} is not active`, 'MedicationRequest.requester');
  }
  const today = ctx.clock.now().toISOString();
  const activeRole = (role: { active?: unknown; period?: { start?: string; end?: string } }) =>
    role.active !== false && (!role.period?.start || role.period.start <= today) && (!role.period?.end || today.slice(0, role.period.end.length) <= role.period.end);
  if (requester.type === 'PractitionerRole' && !activeRole(prescriberResource)) {
    throw unprocessable(PRESCRIPTION_CODES.prescriberUnknown, `PractitionerRole/${requester.id} is outside its period`, 'MedicationRequest.requester');
  }
  // The national default (REGISTRY_MODE=strict): a Practitioner prescribes only while holding an active role.
  if (requester.type === 'Practitioner' && ctx.config.registryMode === 'strict') {
    const roleIds = await matchResourceIds(tx, SERVER_SCOPE, 'PractitionerRole', new URLSearchParams({ practitioner: `Practitioner/${requester.id}` }), 50);
    let holdsRole = false;
    for (const id of roleIds) {
      const role = await readResource(tx, SERVER_SCOPE, 'PractitionerRole', id);
      if (role?.content && !role.deleted && activeRole(parseJson(role.content) as Parameters<typeof activeRole>[0])) holdsRole = true;
    }
    if (!holdsRole) {
      throw unprocessable(PRESCRIPTION_CODES.prescriberUnknown, `Practitioner/${requester.id} holds no active PractitionerRole`, 'MedicationRequest.requester');
    }
  }

  const dispenseRequest = (mr.dispenseRequest ?? {}) as Record<string, unknown>;
  const quantity = num((dispenseRequest.quantity as { value?: unknown } | undefined)?.value);
  if (quantity === undefined || quantity <= 0) {
    throw unprocessable(PRESCRIPTION_CODES.quantityMissing, 'dispenseRequest.quantity.value must be a positive quantity', 'MedicationRequest.dispenseRequest.quantity');
  }
  const repeats = num(dispenseRequest.numberOfRepeatsAllowed) ?? 0;
  if (!Number.isInteger(repeats) || repeats < 0 || repeats > 99) {
    throw unprocessable(PRESCRIPTION_CODES.quantityMissing, 'numberOfRepeatsAllowed must be an integer from 0 to 99', 'MedicationRequest.dispenseRequest.numberOfRepeatsAllowed');
  }

  const now = ctx.clock.now();
  const day = 86_400_000;
  const period = (dispenseRequest.validityPeriod ?? {}) as { start?: string; end?: string };
  const validityEnd = period.end ? new Date(period.end.length === 10 ? `${period.end}T23:59:59.999Z` : period.end) : new Date(now.getTime() + ctx.config.prescriptionValidityDays * day);
  if (Number.isNaN(validityEnd.getTime()) || validityEnd <= now) {
    throw unprocessable(PRESCRIPTION_CODES.validityInvalid, 'validityPeriod.end must lie in the future', 'MedicationRequest.dispenseRequest.validityPeriod.end');
  }
  if (validityEnd.getTime() > now.getTime() + ctx.config.prescriptionMaxValidityDays * day) {
    throw unprocessable(PRESCRIPTION_CODES.validityInvalid, `A prescription is valid at most ${ctx.config.prescriptionMaxValidityDays} days`, 'MedicationRequest.dispenseRequest.validityPeriod.end');
  }

  const number = formatPrescriptionNumber(now, await nextPrescriptionSerial(tx));
  const group = mr.groupIdentifier as { system?: string; value?: string } | undefined;
  const resource: ResourceBody = {
    ...mr,
    identifier: [...identifiers, { use: 'official', system: PRESCRIPTION_NUMBER_SYSTEM, value: number }],
    dispenseRequest: { ...dispenseRequest, validityPeriod: { start: period.start ?? now.toISOString(), end: period.end ?? validityEnd.toISOString() } },
  };
  return {
    resource,
    pending: {
      number,
      patientId: subject.id,
      quantityPerFill: quantity,
      fillsAllowed: 1 + repeats,
      validityEnd,
      atcCode: atcCodeOf(mr),
      groupId: group?.value ? `${group.system ?? ''}|${group.value}` : undefined,
    },
  };
}

/**
 * The write hook, a guard only: a client's own writes may not touch what the prescribing
 * workflow owns (an ePrescription's MedicationRequest and Task change only through the workflow's
 * operations), nor create ePrescriptions or prescription Tasks around it.
 */
export function createPrescriptionGuard(): WriteHook {
  return {
    async beforeStore(tx, resource, id, writer) {
      if (writer.origin === 'workflow') return resource;
      if (resource.resourceType === 'MedicationRequest') {
        if (await findPrescriptionByMedicationRequest(tx, id)) {
          throw FhirError.conflict(`MedicationRequest/${id} is an ePrescription: it changes only through its Task ($abort, $close)`, {
            code: PRESCRIPTION_CODES.useWorkflow,
          });
        }
        if (declaresProfile(resource)) {
          throw unprocessable(
            PRESCRIPTION_CODES.useWorkflow,
            'ePrescriptions are created with POST /MedicationRequest or POST /MedicationRequest/$prescribe (which also takes a Bundle of several), so the access code can be returned',
            'MedicationRequest.meta.profile',
          );
        }
      }
      if (resource.resourceType === 'Task') {
        if (await findPrescription(tx, id)) {
          throw FhirError.conflict(`Task/${id} is owned by the server: use its operations ($accept, $reject, $dispense, $close, $abort)`, { code: PRESCRIPTION_CODES.useWorkflow });
        }
        const identifiers = Array.isArray(resource.identifier) ? (resource.identifier as { system?: string }[]) : [];
        if (identifiers.some((i) => i.system === PRESCRIPTION_NUMBER_SYSTEM)) {
          throw unprocessable(PRESCRIPTION_CODES.useWorkflow, 'Prescription Tasks are created by the server', 'Task.identifier');
        }
      }
      return resource;
    },
    async afterDelete(tx, resourceType, id, writer) {
      if (writer.origin === 'workflow') return;
      if (resourceType === 'MedicationRequest' && (await findPrescriptionByMedicationRequest(tx, id))) {
        throw FhirError.conflict(`MedicationRequest/${id} is an ePrescription: cancel it with Task/$abort`, { code: PRESCRIPTION_CODES.useWorkflow });
      }
      if (resourceType === 'Task' && (await findPrescription(tx, id))) {
        throw FhirError.conflict(`Task/${id} is owned by the server: cancel it with $abort`, { code: PRESCRIPTION_CODES.useWorkflow });
      }
    },
  };
}

/** The server-owned Task of a new prescription: ready, for the patient, focused on the MedicationRequest. */
function buildTask(mr: WrittenVersion, pending: PendingPrescription, now: Date): ResourceBody {
  const resource = mr.resource;
  return {
    resourceType: 'Task',
    identifier: [{ use: 'official', system: PRESCRIPTION_NUMBER_SYSTEM, value: pending.number }],
    status: 'ready',
    intent: 'order',
    focus: { reference: `MedicationRequest/${mr.id}` },
    for: { reference: `Patient/${pending.patientId}` },
    authoredOn: now.toISOString(),
    lastModified: now.toISOString(),
    ...(resource.requester ? { requester: resource.requester } : {}),
    ...(resource.groupIdentifier ? { groupIdentifier: resource.groupIdentifier } : {}),
    restriction: { repetitions: pending.fillsAllowed, period: { end: pending.validityEnd.toISOString() } },
    businessStatus: { text: `fills used 0 of ${pending.fillsAllowed}` },
  };
}

/**
 * One ePrescription, step by step in the caller's transaction: the MedicationRequest with its
 * national number, its server-owned Task, the prescription row with the access code's hash, and
 * the first timeline row. The access code leaves the server only in this step's result.
 */
async function prescribeOne(ctx: StoreContext, tx: Tx, writer: Writer, mr: ResourceBody): Promise<PrescribedItem> {
  const principal = requirePrincipal(writer.principal);
  const workflow = asWorkflow(writer);
  const prepared = await preparePrescription(ctx, tx, mr);
  const pending = prepared.pending;
  const medicationRequest = await createResource(ctx, tx, workflow, prepared.resource);
  const now = ctx.clock.now();
  const task = await createResource(ctx, tx, workflow, buildTask(medicationRequest, pending, now));
  const accessCode = generateAccessCode();
  const row = await insertPrescription(tx, {
    taskId: task.id,
    medicationRequestId: medicationRequest.id,
    number: pending.number,
    patientId: pending.patientId,
    groupId: pending.groupId,
    atcCode: pending.atcCode,
    prescriberOrg: principal.organization,
    prescriberClient: principal.clientId,
    quantityPerFill: pending.quantityPerFill,
    fillsAllowed: pending.fillsAllowed,
    validityEnd: pending.validityEnd,
    accessCodeHash: hashAccessCode(accessCode),
    now,
  });
  await recordPrescriptionEvent(ctx, tx, { row, action: 'prescribe', to: 'ready', principal });
  return { number: pending.number, accessCode, medicationRequest, task, row };
}

export interface PrescribeResult {
  items: PrescribedItem[];
  warnings: Issue[];
}

/**
 * Stores one or several MedicationRequests as ePrescriptions in the caller's
 * transaction (several must share one groupIdentifier; one is assigned when
 * none is given) and computes the safety warnings across each patient's open
 * prescriptions.
 */
export async function prescribe(ctx: StoreContext, tx: Tx, writer: Writer, requests: ResourceBody[]): Promise<PrescribeResult> {
  if (requests.length > 1) {
    const groups = new Set(requests.map((r) => JSON.stringify(r.groupIdentifier ?? null)));
    if (groups.size > 1) {
      throw FhirError.unprocessable('Prescriptions submitted together must share one groupIdentifier (or leave it out)', {
        code: PRESCRIPTION_CODES.groupMismatch,
        expression: ['MedicationRequest.groupIdentifier'],
      });
    }
    if (!requests[0].groupIdentifier) {
      const groupIdentifier = { system: 'http://opennhis.org/fhir/sid/prescription-group', value: ctx.ids.newId() };
      requests = requests.map((r) => ({ ...r, groupIdentifier }));
    }
  }
  const items: PrescribedItem[] = [];
  for (const mr of requests) items.push(await prescribeOne(ctx, tx, writer, mr));
  const warnings: Issue[] = [];
  const newTasks = new Set(items.map((i) => i.row.taskId));
  for (const patientId of new Set(items.map((i) => i.row.patientId))) {
    const open = await listOpenPrescriptionsOfPatient(tx, patientId);
    warnings.push(...safetyWarnings(open.map((r) => ({ number: r.number, atcCode: r.atcCode, isNew: newTasks.has(r.taskId) }))));
  }
  return { items, warnings };
}

