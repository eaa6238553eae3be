import type { Principal } from '../../auth/principal';
import { FhirError, type Issue } from '../../errors/fhir-error';
import type { FhirContext, WriteHook } from '../../fhir/context';
import { writeNew, type WrittenVersion } from '../../fhir/persist';
import type { ResourceBody } from '../../fhir/resource-body';
import {
  findPrescription,
  findPrescriptionByMedicationRequest,
  insertPrescription,
  listOpenPrescriptionsOfPatient,
  nextPrescriptionSerial,
  type PrescriptionRow,
} from '../../repository/prescriptions';
import { readCurrent } from '../../repository/resources';
import type { Tx } from '../../repository/transaction';
import { parseJson } from '../../shared/json';
import { PRESCRIPTION_CODES } from './errors';
import { formatPrescriptionNumber, PRESCRIPTION_NUMBER_SYSTEM } from './prescription-number';
import { allowWorkflowWrite, isWorkflowWrite, recordPrescriptionEvent } from './records';
import { atcCodeOf, safetyWarnings } from './safety-warnings';
import { generateAccessCode, hashAccessCode } from './secrets';

/**
 * Prescribing: a MedicationRequest (intent `order`) written inside a
 * prescribing scope gets a national prescription number before it is stored,
 * and, once stored, a server-owned Task (`ready`), a prescription row and an
 * access code — all in the same transaction. The scope carries the
 * prescriber and collects the access codes, which leave the server only in
 * the response of the request that made them.
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

interface PrescribingScope {
  principal: Principal;
  requestId: string;
  pending: Map<string, PendingPrescription>;
  items: PrescribedItem[];
  creatingTask: boolean;
}

const scopes = new WeakMap<Tx, PrescribingScope>();

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
async function preparePrescription(ctx: FhirContext, tx: Tx, mr: ResourceBody): Promise<{ resource: ResourceBody; pending: PendingPrescription }> {
  if (mr.intent !== 'order') throw unprocessable(PRESCRIPTION_CODES.notEPrescription, `An ePrescription has intent 'order', not '${String(mr.intent)}'`, 'MedicationRequest.intent');
  if (mr.status !== 'active') throw unprocessable(PRESCRIPTION_CODES.notEPrescription, `A new ePrescription has status 'active', not '${String(mr.status)}'`, 'MedicationRequest.status');
  const identifiers = Array.isArray(mr.identifier) ? (mr.identifier as { system?: string }[]) : [];
  if (identifiers.some((i) => i.system === PRESCRIPTION_NUMBER_SYSTEM)) {
    throw unprocessable(PRESCRIPTION_CODES.notEPrescription, 'The prescription number is assigned by the server', 'MedicationRequest.identifier');
  }

  const subject = relativeId((mr.subject as { reference?: unknown } | undefined)?.reference, ['Patient']);
  if (!subject) throw unprocessable(PRESCRIPTION_CODES.patientUnknown, 'subject must reference a Patient as Patient/{id}', 'MedicationRequest.subject');
  const patientStored = await readCurrent(tx, 'Patient', subject.id);
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
  const prescriber = await readCurrent(tx, requester.type, requester.id);
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
    const roleIds = await ctx.search.findIds(tx, 'PractitionerRole', new URLSearchParams({ practitioner: `Practitioner/${requester.id}` }), 50);
    let holdsRole = false;
    for (const id of roleIds) {
      const role = await readCurrent(tx, 'PractitionerRole', id);
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

/** The write hook: numbers ePrescriptions in a prescribing scope; refuses client writes to workflow-owned resources. */
export function createPrescriptionWriteHook(ctx: FhirContext): WriteHook {
  return {
    async beforeStore(tx, resource, id) {
      if (resource.resourceType === 'MedicationRequest') {
        if (await findPrescriptionByMedicationRequest(tx, id)) {
          if (isWorkflowWrite(tx, 'MedicationRequest', id)) return resource;
          throw FhirError.conflict(`MedicationRequest/${id} is an ePrescription: it changes only through its Task ($abort, $close)`, {
            code: PRESCRIPTION_CODES.useWorkflow,
          });
        }
        const scope = scopes.get(tx);
        if (!scope) {
          if (declaresProfile(resource)) {
            throw unprocessable(
              PRESCRIPTION_CODES.useWorkflow,
              'ePrescriptions are created with POST /MedicationRequest or POST /MedicationRequest/$prescribe (which also takes a Bundle of several), so the access code can be returned',
              'MedicationRequest.meta.profile',
            );
          }
          return resource;
        }
        const prepared = await preparePrescription(ctx, tx, resource as ResourceBody);
        scope.pending.set(id, prepared.pending);
        return prepared.resource;
      }
      if (resource.resourceType === 'Task') {
        if (await findPrescription(tx, id)) {
          if (isWorkflowWrite(tx, 'Task', id)) return resource;
          throw FhirError.conflict(`Task/${id} is owned by the server: use its operations ($accept, $reject, $dispense, $close, $abort)`, { code: PRESCRIPTION_CODES.useWorkflow });
        }
        const identifiers = Array.isArray(resource.identifier) ? (resource.identifier as { system?: string }[]) : [];
        if (!scopes.get(tx)?.creatingTask && identifiers.some((i) => i.system === PRESCRIPTION_NUMBER_SYSTEM)) {
          throw unprocessable(PRESCRIPTION_CODES.useWorkflow, 'Prescription Tasks are created by the server', 'Task.identifier');
        }
      }
      return resource;
    },
    async afterStore(tx, resource) {
      if (resource.resourceType !== 'MedicationRequest') return;
      const scope = scopes.get(tx);
      const pending = scope?.pending.get(resource.id);
      if (!scope || !pending) return;
      scope.pending.delete(resource.id);
      const now = ctx.clock.now();
      const task: ResourceBody = {
        resourceType: 'Task',
        identifier: [{ use: 'official', system: PRESCRIPTION_NUMBER_SYSTEM, value: pending.number }],
        status: 'ready',
        intent: 'order',
        focus: { reference: `MedicationRequest/${resource.id}` },
        for: { reference: `Patient/${pending.patientId}` },
        authoredOn: now.toISOString(),
        lastModified: now.toISOString(),
        ...(resource.requester ? { requester: resource.requester } : {}),
        ...(resource.groupIdentifier ? { groupIdentifier: resource.groupIdentifier } : {}),
        restriction: { repetitions: pending.fillsAllowed, period: { end: pending.validityEnd.toISOString() } },
        businessStatus: { text: `fills used 0 of ${pending.fillsAllowed}` },
      };
      scope.creatingTask = true;
      let written: WrittenVersion;
      try {
        written = await writeNew(ctx, tx, task);
      } finally {
        scope.creatingTask = false;
      }
      const accessCode = generateAccessCode();
      const row = await insertPrescription(tx, {
        taskId: written.id,
        medicationRequestId: resource.id,
        number: pending.number,
        patientId: pending.patientId,
        groupId: pending.groupId,
        atcCode: pending.atcCode,
        prescriberOrg: scope.principal.organization,
        prescriberClient: scope.principal.clientId,
        quantityPerFill: pending.quantityPerFill,
        fillsAllowed: pending.fillsAllowed,
        validityEnd: pending.validityEnd,
        accessCodeHash: hashAccessCode(accessCode),
        now,
      });
      await recordPrescriptionEvent(ctx, tx, { row, action: 'prescribe', to: 'ready', principal: scope.principal, requestId: scope.requestId });
      scope.items.push({ number: pending.number, accessCode, task: written, row, medicationRequest: undefined as unknown as WrittenVersion });
    },
    async afterDelete(tx, resourceType, id) {
      if (resourceType === 'MedicationRequest' && (await findPrescriptionByMedicationRequest(tx, id)) && !isWorkflowWrite(tx, resourceType, id)) {
        throw FhirError.conflict(`MedicationRequest/${id} is an ePrescription: cancel it with Task/$abort`, { code: PRESCRIPTION_CODES.useWorkflow });
      }
      if (resourceType === 'Task' && (await findPrescription(tx, id)) && !isWorkflowWrite(tx, resourceType, id)) {
        throw FhirError.conflict(`Task/${id} is owned by the server: cancel it with $abort`, { code: PRESCRIPTION_CODES.useWorkflow });
      }
    },
  };
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
export async function prescribe(ctx: FhirContext, tx: Tx, principal: Principal, requestId: string, requests: ResourceBody[]): Promise<PrescribeResult> {
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
  const scope: PrescribingScope = { principal, requestId, pending: new Map(), items: [], creatingTask: false };
  scopes.set(tx, scope);
  try {
    for (const mr of requests) {
      const before = scope.items.length;
      const written = await writeNew(ctx, tx, mr);
      if (scope.items.length !== before + 1) throw new Error('prescription hook is not registered in ctx.writeHooks');
      scope.items[before].medicationRequest = written;
    }
  } finally {
    scopes.delete(tx);
  }
  const warnings: Issue[] = [];
  const newTasks = new Set(scope.items.map((i) => i.row.taskId));
  for (const patientId of new Set(scope.items.map((i) => i.row.patientId))) {
    const open = await listOpenPrescriptionsOfPatient(tx, patientId);
    warnings.push(...safetyWarnings(open.map((r) => ({ number: r.number, atcCode: r.atcCode, isNew: newTasks.has(r.taskId) }))));
  }
  return { items: scope.items, warnings };
}

export { allowWorkflowWrite };
