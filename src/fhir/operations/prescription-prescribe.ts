// ePrescription: POST [base]/MedicationRequest/$prescribe
// (MedicationRequest + server-owned Task, as in the German E-Rezept: https://gemspec.gematik.de/docs/gemSpec/gemSpec_FD_eRp/)
import { outcomeOf } from '../../errors/operation-outcome';
import { isEPrescription, prescribe, type PrescribeResult } from '../../domain/prescription/prescribe';
import { FhirError } from '../../errors/fhir-error';
import { requirePrincipal } from '../../domain/prescription/actors';
import { inTransaction } from '../../store/transaction';
import { writerOf } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { assertValid } from '../../store/write/validate-resource';
import { NO_STORE, resourcesOf } from './prescription-body';

async function run(ctx: FhirContext, req: FhirRequest, body: unknown): Promise<PrescribeResult> {
  requirePrincipal(req.principal);
  const requests = resourcesOf(body, 'MedicationRequest', true);
  requests.forEach((r, i) => assertValid(ctx, r, requests.length > 1 ? `MedicationRequest[${i}]` : undefined));
  return inTransaction(ctx.db, (tx) => prescribe(ctx, tx, writerOf(req), requests));
}

/**
 * `$prescribe`: one MedicationRequest, or a Bundle/Parameters of several
 * sharing a groupIdentifier. Answers a Parameters with, per item, the
 * prescription number, the access code (shown this once only), the stored
 * MedicationRequest and Task; and an OperationOutcome with safety warnings.
 */
export async function prescribeOperation(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const result = await run(ctx, req, req.body);
  const outcome = outcomeOf(
    result.warnings.length > 0 ? result.warnings : [{ severity: 'information', code: 'informational', diagnostics: `${result.items.length} prescription(s) issued` }],
  );
  return {
    status: 200,
    headers: { ...NO_STORE },
    body: {
      resourceType: 'Parameters',
      parameter: [
        ...result.items.map((item) => ({
          name: 'prescription',
          part: [
            { name: 'prescriptionNumber', valueIdentifier: (item.task.resource.identifier as unknown[])[0] },
            { name: 'accessCode', valueString: item.accessCode },
            { name: 'medicationRequest', resource: item.medicationRequest.resource },
            { name: 'task', resource: item.task.resource },
          ],
        })),
        { name: 'outcome', resource: outcome },
      ],
    },
  };
}


/** Extensions carried by the create response only (never stored): how the prescriber learns the access code. */
export const ACCESS_CODE_EXTENSION = 'http://opennhis.org/fhir/StructureDefinition/prescription-access-code';
export const TASK_EXTENSION = 'http://opennhis.org/fhir/StructureDefinition/prescription-task';
export const WARNINGS_EXTENSION = 'http://opennhis.org/fhir/StructureDefinition/prescription-warnings';

/**
 * Plain `POST /MedicationRequest` of a resource claiming the ePrescription profile: the same
 * workflow as `$prescribe`, answered as a create (201, Location, ETag). The stored
 * MedicationRequest carries the prescription number; the answer adds, this once, the access
 * code, the Task and any safety warnings (a contained OperationOutcome) as extensions.
 * Always a representation: `Prefer: return=minimal` would lose the access code.
 */
export async function prescribeByCreate(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  refuseIdempotencyKey(req);
  const result = await run(ctx, req, req.body);
  const [item] = result.items;
  const mr = item.medicationRequest;
  return {
    status: 201,
    headers: {
      ...NO_STORE,
      Location: `${req.baseUrl}/MedicationRequest/${mr.id}/_history/${mr.versionId}`,
      ETag: `W/"${mr.versionId}"`,
      'Last-Modified': mr.lastUpdated.toUTCString(),
    },
    body: answerResource(item, result.warnings),
  };
}

/** The stored MedicationRequest plus, this once, the access code, the Task and any safety warnings. */
function answerResource(item: PrescribeResult['items'][number], warnings: PrescribeResult['warnings']): Record<string, unknown> {
  const mr = item.medicationRequest;
  const extension = [
    ...((mr.resource.extension as unknown[] | undefined) ?? []),
    { url: ACCESS_CODE_EXTENSION, valueString: item.accessCode },
    { url: TASK_EXTENSION, valueReference: { reference: `Task/${item.task.id}` } },
  ];
  const body: Record<string, unknown> = { ...mr.resource, extension };
  // Warnings concern the patient's prescriptions as a whole, so every item of a group carries them all.
  if (warnings.length > 0) {
    body.contained = [...((mr.resource.contained as unknown[] | undefined) ?? []), { ...outcomeOf(warnings), id: 'safety-warnings' }];
    extension.push({ url: WARNINGS_EXTENSION, valueReference: { reference: '#safety-warnings' } });
  }
  return body;
}

/**
 * An Idempotency-Key would store the first answer, access codes included, which exist only as
 * hashes. Refused outright rather than ignored, so no client believes a retry is safe.
 */
function refuseIdempotencyKey(req: FhirRequest): void {
  if (req.headers['idempotency-key'] !== undefined) {
    throw FhirError.badRequest(
      'Idempotency-Key is not accepted for ePrescriptions: the answer holds access codes, which are never stored. After a lost answer, find the prescription by patient and $abort it if needed.',
      { code: 'NHIS-1624' },
    );
  }
}

/** A transaction Bundle whose every entry POSTs an ePrescription-profile MedicationRequest (items sharing a groupIdentifier). */
export function isPrescriptionTransaction(body: unknown): boolean {
  const b = body as { resourceType?: unknown; type?: unknown; entry?: unknown } | undefined;
  if (!b || b.resourceType !== 'Bundle' || b.type !== 'transaction' || !Array.isArray(b.entry) || b.entry.length === 0) return false;
  return (b.entry as { resource?: unknown; request?: { method?: unknown; url?: unknown } }[]).every(
    (e) =>
      e?.request?.method === 'POST' &&
      e.request.url === 'MedicationRequest' &&
      !!e.resource &&
      typeof e.resource === 'object' &&
      isEPrescription(e.resource as Record<string, unknown>),
  );
}

/**
 * `POST /` with a transaction of ePrescriptions: the prescribing workflow for all items at once
 * (all or nothing), answered as a transaction-response with each MedicationRequest as in
 * `prescribeByCreate`.
 */
export async function prescribeTransaction(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  refuseIdempotencyKey(req);
  const result = await run(ctx, req, req.body);
  return {
    status: 200,
    headers: { ...NO_STORE },
    body: {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: result.items.map((item) => ({
        fullUrl: `${req.baseUrl}/MedicationRequest/${item.medicationRequest.id}`,
        resource: answerResource(item, result.warnings),
        response: {
          status: '201 Created',
          location: `MedicationRequest/${item.medicationRequest.id}/_history/${item.medicationRequest.versionId}`,
          etag: `W/"${item.medicationRequest.versionId}"`,
          lastModified: item.medicationRequest.lastUpdated.toISOString(),
        },
      })),
    },
  };
}
