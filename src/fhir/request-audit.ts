import type { Interaction } from '../auth/decide';
import { isFhirError } from '../errors/fhir-error';
import type { AuditTrail } from '../store/audit/audit-trail';
import { auditOutcomeForStatus, type AuditInput } from '../store/audit/audit-input';
import { patientsOfStored } from '../store/read';
import { patientsOfResource } from '../store/search/compartment-patients';
import { isDatabaseUnavailable } from '../store/errors';
import { isResourceType } from '../shared/resource-types';
import { accessInteraction } from './access';
import type { FhirContext } from './context';
import type { FhirRequest, FhirResponse } from './request';
import type { FhirRoute } from './route-types';

/**
 * The audit trail of one request (IHE BALP). Every write the store makes records its own
 * AuditEvent in the write's transaction, naming the patients of the resource written. Everything
 * else — reads, searches, operations that wrote nothing, refusals, failures — is recorded here,
 * once the outcome is known, naming the patients whose data the answer holds. If that audit
 * cannot be stored the request fails: no access goes unrecorded.
 */
export interface RequestAudit {
  /** The context the handler runs with: its audit trail tells this request that a write was audited. */
  ctx: FhirContext;
  afterSuccess(out: FhirResponse): Promise<void>;
  afterFailure(err: unknown): Promise<void>;
}

const MAX_PATIENTS = 100;

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
      for (const p of await patientsOfStored(ctx.db, type, id)) ids.add(p);
    } catch {
      /* the audit is still written, without the lookup */
    }
  }
  return [...ids].slice(0, MAX_PATIENTS);
}

function addPatientsOf(ids: Set<string>, resource: unknown): void {
  const r = resource as { resourceType?: unknown } | undefined;
  if (!r || typeof r !== 'object' || typeof r.resourceType !== 'string' || !isResourceType(r.resourceType)) return;
  for (const id of patientsOfResource(r as { resourceType: string } & Record<string, unknown>)) ids.add(id);
}

/** Patients whose data the answer holds: every resource in it, by its Patient compartment membership. */
function patientsOfResponse(req: FhirRequest, out: FhirResponse): string[] {
  const ids = patientsOfRequest(req);
  if (out.rawBody !== undefined && out.rawBody.length < 1_000_000) {
    try {
      const parsed = JSON.parse(out.rawBody) as { resourceType?: string; entry?: { resource?: unknown }[] };
      if (parsed.resourceType === 'Bundle' && Array.isArray(parsed.entry)) for (const e of parsed.entry) addPatientsOf(ids, e?.resource);
      else addPatientsOf(ids, parsed);
    } catch {
      /* not JSON we can read */
    }
  }
  const body = out.body as { resourceType?: string; entry?: { resource?: unknown }[]; parameter?: { resource?: unknown; part?: { resource?: unknown }[] }[] } | undefined;
  if (body?.resourceType === 'Bundle' && Array.isArray(body.entry)) {
    for (const e of body.entry) addPatientsOf(ids, e.resource);
  } else if (body?.resourceType === 'Parameters' && Array.isArray(body.parameter)) {
    for (const p of body.parameter) {
      addPatientsOf(ids, p.resource);
      for (const part of p.part ?? []) addPatientsOf(ids, part.resource);
    }
  } else if (body) addPatientsOf(ids, body);
  return [...ids].slice(0, MAX_PATIENTS);
}

/** The trail as the handler sees it: writes it records are noted, so the request is not audited twice. */
function noting(trail: AuditTrail, noted: () => void): AuditTrail {
  return {
    record: (input) => trail.record(input),
    recordRefusal: (input, opts) => trail.recordRefusal(input, opts),
    async recordInTransaction(tx, inputs) {
      noted();
      return trail.recordInTransaction(tx, inputs);
    },
  };
}

export function createRequestAudit(ctx: FhirContext, route: FhirRoute, req: FhirRequest): RequestAudit {
  const interaction: Interaction = accessInteraction(route) ?? (route.interaction === 'transaction' ? 'create' : 'operation');
  let audited = false;
  const base = (): Omit<AuditInput, 'patientIds' | 'outcome'> => ({
    principal: req.principal,
    interaction,
    resourceType: resourceTypeOf(route, req),
    operation: route.operation ? `$${route.operation}` : undefined,
    query: req.query.toString() || undefined,
    rule: req.access?.rule,
    requestId: req.requestId,
    clientIp: req.clientIp,
    when: ctx.clock.now(),
  });
  return {
    ctx: { ...ctx, audit: noting(ctx.audit, () => (audited = true)) },
    async afterSuccess(out) {
      // A write is audited by the store, per resource written; a transaction's GET entries are not writes.
      if (!req.principal || (audited && route.interaction !== 'transaction')) return;
      await ctx.audit.record({ ...base(), id: req.params.id, patientIds: patientsOfResponse(req, out), outcome: auditOutcomeForStatus(out.status) });
    },
    async afterFailure(err) {
      if (!req.principal) return;
      // Database out of reach (or no pooled connection to be had): the refusal is audited without
      // waiting for another connection, which would only make the 503 as late again.
      const databaseUnavailable = isDatabaseUnavailable(err);
      const status = databaseUnavailable ? 503 : isFhirError(err) ? err.status : 500;
      const input: AuditInput = {
        ...base(),
        id: req.params.id,
        patientIds: databaseUnavailable ? [...patientsOfRequest(req)].slice(0, 100) : await patientsOfFailure(ctx, req),
        outcome: auditOutcomeForStatus(status),
        outcomeDescription: databaseUnavailable ? 'The database is unavailable' : isFhirError(err) ? err.message.slice(0, 500) : 'internal error',
      };
      try {
        await ctx.audit.recordRefusal(input, { databaseUnavailable });
      } catch (auditErr) {
        ctx.logger.error({ reqId: req.requestId, err: { message: (auditErr as Error).message } }, 'could not record the audit of a failed request');
      }
    },
  };
}

/**
 * A refused authentication (no principal): recorded with the client id the token claimed, never
 * trusted; spooled to local disk when the database is out of reach.
 */
export async function recordRefusedAuthentication(ctx: FhirContext, input: { claimedClientId?: string; reason: string; requestId: string; clientIp?: string; when?: Date; since?: Date }): Promise<void> {
  await ctx.audit.recordRefusal({
    interaction: 'authenticate',
    claimedClientId: input.claimedClientId,
    patientIds: [],
    outcome: 'minor-failure',
    outcomeDescription: input.reason.slice(0, 300),
    requestId: input.requestId,
    clientIp: input.clientIp,
    when: input.when ?? ctx.clock.now(),
    since: input.since,
  });
}
