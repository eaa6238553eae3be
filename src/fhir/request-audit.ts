import type { Interaction } from '../auth/decide';
import { auditOutcomeForStatus, buildAuditEvent } from '../domain/audit/build-audit-event';
import { recordAudit, recordAuditAlone, recordRefusalAudit } from '../domain/audit/record-audit';
import { isFhirError } from '../errors/fhir-error';
import { accessInteraction, patientIdsOf } from './access';
import type { AuditWrite, FhirContext } from './context';
import type { FhirRequest, FhirResponse } from './request';
import type { FhirRoute } from './routes';
import { patientsOfResource } from '../repository/compartment';
import { isDatabaseUnavailable } from '../repository/driver-errors';
import { isResourceType } from '../shared/resource-types';
import { patientCompartmentParams } from './search/definitions';

/**
 * The audit trail of one request (IHE BALP): a write is audited inside its
 * own transaction (through `auditWrite`); everything else — reads, searches,
 * refusals, failures — once the outcome is known. If that audit cannot be
 * stored the request fails: no access goes unrecorded.
 */
export interface RequestAudit {
  auditWrite: AuditWrite;
  afterSuccess(out: FhirResponse): Promise<void>;
  afterFailure(err: unknown): Promise<void>;
}

function resourceTypeOf(route: FhirRoute, req: FhirRequest): string | undefined {
  if (req.params.compartmentType) return req.params.compartmentType;
  if (req.params.type) return req.params.type;
  const body = req.body as { resourceType?: unknown } | undefined;
  return typeof body?.resourceType === 'string' ? body.resourceType : route.interaction === 'transaction' ? 'Bundle' : undefined;
}

/** Patients the request names: the Patient addressed, `patient=` / `subject=Patient/..` criteria. */
function patientsOfRequest(req: FhirRequest): Set<string> {
  const ids = new Set<string>(req.access?.patientCompartment ? [req.access.patientCompartment] : []);
  if (req.params.type === 'Patient' && req.params.id) ids.add(req.params.id);
  for (const key of ['patient', 'subject']) {
    for (const v of req.query.getAll(key)) {
      const m = /(?:^|\/)(?:Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(v);
      if (m && (key === 'patient' || v.includes('Patient/'))) ids.add(m[1]);
    }
  }
  return ids;
}

/**
 * Patients of a refused or failed request. A refused read of one resource by a client is
 * recorded against the patient it belongs to (from the index), so that patient sees the
 * attempt. Not for patient tokens: their own trail would then tell them whose record an id
 * belongs to, the existence oracle a 404 is there to avoid.
 */
async function patientsOfFailure(ctx: FhirContext, req: FhirRequest): Promise<string[]> {
  const ids = patientsOfRequest(req);
  if (req.principal?.kind === 'patient' || req.access?.patientCompartment) return [...ids];
  const { type, id } = req.params;
  if (type && id && isResourceType(type)) {
    try {
      for (const p of await patientsOfResource(ctx.db, type, id, patientCompartmentParams(type))) ids.add(p);
    } catch {
      /* the audit is still written, without the lookup */
    }
  }
  return [...ids].slice(0, 100);
}

function patientsOfResponse(req: FhirRequest, out: FhirResponse): string[] {
  const ids = patientsOfRequest(req);
  if (out.rawBody !== undefined && out.rawBody.length < 1_000_000) {
    try {
      for (const id of patientIdsOf(JSON.parse(out.rawBody))) ids.add(id);
    } catch {
      /* not a single resource */
    }
  }
  const body = out.body as { resourceType?: string; entry?: { resource?: unknown }[] } | undefined;
  if (body?.resourceType === 'Bundle' && Array.isArray(body.entry)) {
    for (const e of body.entry) for (const id of patientIdsOf(e.resource)) ids.add(id);
  } else if (body) {
    for (const id of patientIdsOf(body)) ids.add(id);
  }
  return [...ids].slice(0, 100);
}

export function createRequestAudit(ctx: FhirContext, route: FhirRoute, req: FhirRequest, clientIp: string | undefined): RequestAudit {
  const interaction: Interaction = accessInteraction(route) ?? (route.interaction === 'transaction' ? 'create' : 'operation');
  let auditedInTx = false;
  const base = () => ({
    principal: req.principal,
    interaction,
    resourceType: resourceTypeOf(route, req),
    operation: route.operation ? `$${route.operation}` : undefined,
    query: req.query.toString() || undefined,
    requestId: req.requestId,
    clientIp,
    when: ctx.clock.now(),
  });
  return {
    auditWrite: async (tx, write) => {
      auditedInTx = true;
      const event = buildAuditEvent({ ...base(), resourceType: write.resourceType, id: write.id, versionId: write.versionId, patientIds: write.patientIds, outcome: 'success' });
      await recordAudit(ctx, tx, event);
    },
    async afterSuccess(out) {
      if (auditedInTx || !req.principal) return;
      const event = buildAuditEvent({ ...base(), id: req.params.id, patientIds: patientsOfResponse(req, out), outcome: auditOutcomeForStatus(out.status) });
      await recordAuditAlone(ctx, event);
    },
    async afterFailure(err) {
      if (!req.principal) return;
      // Database out of reach (or no pooled connection to be had): the refusal is audited without
      // waiting for another connection, which would only make the 503 as late again.
      const databaseUnavailable = isDatabaseUnavailable(err);
      const status = databaseUnavailable ? 503 : isFhirError(err) ? err.status : 500;
      const event = buildAuditEvent({
        ...base(),
        id: req.params.id,
        patientIds: databaseUnavailable ? [...patientsOfRequest(req)].slice(0, 100) : await patientsOfFailure(ctx, req),
        outcome: auditOutcomeForStatus(status),
        outcomeDescription: databaseUnavailable ? 'The database is unavailable' : isFhirError(err) ? err.message.slice(0, 500) : 'internal error',
      });
      try {
        await recordRefusalAudit(ctx, event, { databaseUnavailable });
      } catch (auditErr) {
        ctx.logger.error({ reqId: req.requestId, err: { message: (auditErr as Error).message } }, 'could not record the audit of a failed request');
      }
    },
  };
}
