// GET [base]/AuditEvent?... (https://hl7.org/fhir/R4/auditevent.html#search), served from the audit trail's own table.
import type { AuditEvent } from '@medplum/fhirtypes';
import { FhirError } from '../../errors/fhir-error';
import { countAuditRows, findAuditRows, type AuditCondition, type AuditRow } from '../../repository/audit-events';
import type { Db } from '../../repository/db';
import type { Tx } from '../../repository/transaction';
import type { AccessScope, TypeAccess } from '../access/access-scope';
import { parseDateRange, toSqlInstant } from '../search/date-range';
import { DEFAULT_COUNT, MAX_COUNT, splitEscaped } from '../search/parse-query';
import { auditEventJson, NHIS_CLIENT_ID_SYSTEM } from './audit-event-json';
import { FACILITY_CODE_SYSTEM } from '../../shared/registry-systems';

/**
 * The parameters that matter for audits: patient, date, agent, entity, entity-type, action,
 * outcome, type, subtype, source, address, _id, _count, _sort=date|-date, _total, _summary=count.
 * A patient sees only events that concern them, each through the `own-audit` view; anyone else
 * needs an unrestricted grant on AuditEvent (the auditor).
 */
type Executor = Db | Tx;
const AUDIT = 'AuditEvent';
const SERVER_NAME = 'OpenNHIS';
const PREFIXES = new Set(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);
const IGNORED = new Set(['_format', '_pretty']);

export interface AuditSearchResult {
  events: AuditEvent[];
  total?: number;
  /** Cursor of the next page, when there is one. */
  next?: string;
  /** Parameters that took effect, for the self and next links. */
  used: [string, string][];
  count: number;
  /** Parameters ignored (lenient handling), to report in an OperationOutcome. */
  ignored: { param: string; message: string }[];
}

/** The search parameters the audit trail serves (besides _count, _sort, _total, _summary=count). */
export const AUDIT_SEARCH_PARAMS = ['_id', 'patient', 'date', 'agent', 'entity', 'entity-type', 'action', 'outcome', 'type', 'subtype', 'source', 'address'];

class ParamError extends Error {}

function values(raw: string): string[] {
  const list = splitEscaped(raw, ',').map((v) => v.replace(/\\([,$|\\])/g, '$1'));
  if (list.some((v) => v === '') || list.length > 100) throw new ParamError('Expected 1 to 100 non-empty values');
  return list;
}

/** `Type/id`, `id` or an absolute URL ending in `Type/id` → its parts. */
function reference(v: string, defaultType?: string): { type?: string; id: string } {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(v);
  if (m) return { type: m[1], id: m[2] };
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(v)) return { type: defaultType, id: v };
  throw new ParamError(`Invalid reference '${v.slice(0, 100)}'`);
}

function token(v: string): { system?: string; code: string } {
  const parts = splitEscaped(v, '|');
  return parts.length === 1 ? { code: parts[0] } : { system: parts[0] || undefined, code: parts.slice(1).join('|') };
}

function criterion(name: string, raw: string): AuditCondition {
  const [code, modifier] = name.split(':');
  switch (code) {
    case '_id':
      return { kind: 'in', column: 'id', values: values(raw) };
    case 'patient':
      return { kind: 'patients', ids: values(raw).map((v) => reference(v, 'Patient')).filter((r) => !r.type || r.type === 'Patient').map((r) => r.id) };
    case 'entity':
      return { kind: 'entity', refs: values(raw).map((v) => reference(v)) };
    case 'agent': {
      if (modifier === 'identifier') {
        const clients = values(raw).map(token);
        const byClient = clients.filter((t) => !t.system || t.system === NHIS_CLIENT_ID_SYSTEM).map((t) => t.code);
        const byOrg = clients.filter((t) => t.system === FACILITY_CODE_SYSTEM).map((t) => t.code);
        if (byOrg.length && byClient.length) throw new ParamError('agent:identifier takes client ids or facility codes, not both at once');
        return byOrg.length ? { kind: 'in', column: 'organization', values: byOrg } : { kind: 'in', column: 'client_id', values: byClient };
      }
      if (modifier !== undefined) throw new ParamError(`Unsupported modifier :${modifier} for agent`);
      return { kind: 'in', column: 'patient_agent', values: values(raw).map((v) => reference(v, 'Patient')).map((r) => r.id) };
    }
    case 'action':
      return { kind: 'in', column: 'action', values: values(raw) };
    case 'outcome':
      return { kind: 'outcome', values: values(raw).map((v) => token(v).code).map((c) => (/^(0|4|8|12)$/.test(c) ? Number(c) : -1)) };
    case 'type':
      return { kind: 'in', column: 'event_type', values: values(raw).map((v) => ({ rest: 'rest', '110114': 'login' })[token(v).code] ?? '\u0000') };
    case 'subtype':
      return { kind: 'in', column: 'subtype', values: values(raw).map((v) => (token(v).code === '110122' ? 'login' : token(v).code)) };
    case 'entity-type':
      return { kind: 'hasPatients', value: values(raw).some((v) => token(v).code === '1') };
    case 'address':
      return { kind: 'in', column: 'client_ip', values: values(raw) };
    case 'source':
      return values(raw).some((v) => v === SERVER_NAME || v.endsWith(`/${SERVER_NAME}`)) ? { kind: 'in', column: 'action', values: ['C', 'R', 'U', 'D', 'E'] } : { kind: 'nothing' };
    case 'date':
      return {
        kind: 'recorded',
        matches: values(raw).map((v) => {
          const prefix = PREFIXES.has(v.slice(0, 2)) && /[0-9]/.test(v[2] ?? '') ? v.slice(0, 2) : 'eq';
          const range = parseDateRange(prefix === 'eq' && !v.startsWith('eq') ? v : v.slice(2));
          if (!range) throw new ParamError(`Invalid date '${v.slice(0, 100)}'`);
          return { prefix, low: toSqlInstant(range.low), high: toSqlInstant(range.high) };
        }),
      };
    default:
      throw new ParamError(`Unknown or unsupported search parameter '${code}' for AuditEvent`);
  }
}

function encodeCursor(row: AuditRow, sort: string): string {
  return Buffer.from(JSON.stringify({ s: sort, r: row.recorded.toISOString(), i: row.id }), 'utf8').toString('base64url');
}

function decodeCursor(text: string, sort: string): { recorded: string; id: string } {
  try {
    const o = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { s?: unknown; r?: unknown; i?: unknown };
    if (o.s === sort && typeof o.r === 'string' && !Number.isNaN(Date.parse(o.r)) && typeof o.i === 'string' && o.i.length <= 64) return { recorded: o.r, id: o.i };
  } catch {
    /* below */
  }
  throw FhirError.badRequest('Invalid _cursor; restart from the first page', { code: 'NHIS-1301', expression: ['_cursor'] });
}

/** The scope's condition on audit rows: a patient's own events only; nothing for anyone without a plain grant. */
function scopeConditions(access: TypeAccess | undefined): AuditCondition[] {
  if (!access || access.matchAny) return [{ kind: 'nothing' }];
  if (access.patientCompartment) return [{ kind: 'patients', ids: [access.patientCompartment] }];
  return [];
}

export async function searchAuditEvents(db: Executor, scope: AccessScope, query: URLSearchParams, opts: { strict: boolean }): Promise<AuditSearchResult> {
  const access = scope.on(AUDIT, 'search');
  const conditions: AuditCondition[] = scopeConditions(access);
  const used: [string, string][] = [];
  const ignored: { param: string; message: string }[] = [];
  let count = DEFAULT_COUNT;
  let descending = true;
  let total: 'accurate' | 'none' | undefined;
  let summaryCount = false;
  let cursor: string | undefined;
  for (const [name, raw] of query) {
    try {
      if (IGNORED.has(name)) continue;
      if (name === '_count') {
        if (!/^\d{1,9}$/.test(raw)) throw new ParamError('_count must be a non-negative integer');
        count = Math.min(Number(raw), MAX_COUNT);
      } else if (name === '_sort') {
        if (raw !== 'date' && raw !== '-date') throw new ParamError("AuditEvents sort by 'date' or '-date'");
        descending = raw === '-date';
      } else if (name === '_total') {
        if (raw !== 'accurate' && raw !== 'none' && raw !== 'estimate') throw new ParamError('_total must be none, estimate or accurate');
        total = raw === 'none' ? 'none' : 'accurate';
      } else if (name === '_summary') {
        if (raw !== 'count') throw new ParamError('AuditEvent searches support _summary=count only');
        summaryCount = true;
      } else if (name === '_cursor') {
        cursor = raw;
        continue;
      } else conditions.push(criterion(name, raw));
      used.push([name, raw]);
    } catch (err) {
      if (!(err instanceof ParamError)) throw err;
      if (opts.strict) throw FhirError.badRequest(`${name}: ${err.message}`, { code: 'NHIS-1300', expression: [name] });
      ignored.push({ param: name, message: err.message });
    }
  }
  const sort = descending ? '-date' : 'date';
  const limit = summaryCount ? 0 : count;
  const rows = limit > 0 ? await findAuditRows(db, { conditions, descending, limit: limit + 1, after: cursor ? decodeCursor(cursor, sort) : undefined }) : [];
  const page = rows.slice(0, limit);
  const hasNext = rows.length > limit && limit > 0;
  let counted: number | undefined;
  if (summaryCount || total === 'accurate' || (!cursor && total !== 'none' && hasNext)) counted = await countAuditRows(db, conditions);
  else if (!cursor && total !== 'none') counted = page.length;
  const viewer = access?.patientCompartment;
  return {
    events: page.map((r) => auditEventJson(r, access?.view, viewer)),
    total: counted,
    next: hasNext ? encodeCursor(page[page.length - 1], sort) : undefined,
    used,
    count,
    ignored,
  };
}

/** One AuditEvent by id, if the scope shows it (else undefined, exactly as for a missing one). */
export async function readAuditEvent(db: Executor, scope: AccessScope, id: string): Promise<AuditEvent | undefined> {
  const access = scope.on(AUDIT, 'read');
  const conditions = [...scopeConditions(access), { kind: 'in', column: 'id', values: [id] } as AuditCondition];
  const [row] = await findAuditRows(db, { conditions, descending: true, limit: 1 });
  return row && auditEventJson(row, access?.view, access?.patientCompartment);
}
