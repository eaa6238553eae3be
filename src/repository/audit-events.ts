import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db';
import { guarded, inTransaction, type Tx } from './transaction';

/**
 * The audit trail's table (migration 0008): one narrow row per AuditEvent, written in batches
 * (a request's reads share a group commit; a write's events go in the write's transaction) and
 * searched by the few columns audit queries use. SQL only: building events and deciding who may
 * see them happens in the store (store/audit/).
 */
export interface AuditRow {
  id: string;
  recorded: Date;
  /** Events that stand for many (aggregated refusals): when the first happened; `recorded` is the last. */
  periodStart?: Date;
  /** `rest` (an interaction) or `login` (an authentication attempt). */
  eventType: 'rest' | 'login';
  /** The restful-interaction code (`read`, `search-type`, `operation`...) or `login`. */
  subtype: string;
  operation?: string;
  action: string;
  outcome: number;
  outcomeDesc?: string;
  /** Who acted: a registered client, a patient (citizen token), or nobody verified. */
  actorKind?: 'client' | 'patient';
  /** The client (for an unauthenticated request, the one it claimed). */
  clientId?: string;
  organization?: string;
  role?: string;
  /** The Patient id of a patient who acted; '' when their national id matched no Patient. */
  patientAgent?: string;
  purpose?: string;
  /** Patients whose data the event concerns. */
  patientIds: string[];
  entityType?: string;
  entityId?: string;
  entityVersion?: string;
  /** The request's query string with secrets redacted. */
  query?: string;
  queryDesc?: string;
  requestId?: string;
  clientIp?: string;
  /** The access rule that decided. */
  rule?: string;
  /** Events stored before this table existed: their JSON, served as it was. */
  legacy?: string;
}

const COLUMNS: [keyof AuditRow, string, string][] = [
  ['id', 'id', 'text'],
  ['recorded', 'recorded', 'timestamptz'],
  ['periodStart', 'period_start', 'timestamptz'],
  ['eventType', 'event_type', 'text'],
  ['subtype', 'subtype', 'text'],
  ['operation', 'operation', 'text'],
  ['action', 'action', 'text'],
  ['outcome', 'outcome', 'smallint'],
  ['outcomeDesc', 'outcome_desc', 'text'],
  ['actorKind', 'actor_kind', 'text'],
  ['clientId', 'client_id', 'text'],
  ['organization', 'organization', 'text'],
  ['role', 'role', 'text'],
  ['patientAgent', 'patient_agent', 'text'],
  ['purpose', 'purpose', 'text'],
  ['patientIds', 'patient_ids', 'text[]'],
  ['entityType', 'entity_type', 'text'],
  ['entityId', 'entity_id', 'text'],
  ['entityVersion', 'entity_version', 'text'],
  ['query', 'query', 'text'],
  ['queryDesc', 'query_desc', 'text'],
  ['requestId', 'request_id', 'text'],
  ['clientIp', 'client_ip', 'text'],
  ['rule', 'rule', 'text'],
  ['legacy', 'legacy', 'text'],
];

const INSERT_HEAD = sql.raw(`insert into audit_event (${COLUMNS.map(([, c]) => c).join(', ')}) select ${COLUMNS.map(([, c]) => `x.${c}`).join(', ')} from json_to_recordset(`);
const INSERT_TAIL = sql.raw(`::json) as x(${COLUMNS.map(([, c, t]) => `${c} ${t}`).join(', ')})`);

/** A PostgreSQL array literal: json_to_recordset reads a text[] column from its text form. */
function textArrayLiteral(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

function toJsonRow(row: AuditRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, column] of COLUMNS) {
    const v = row[key];
    if (v === undefined) continue;
    out[column] = v instanceof Date ? v.toISOString() : key === 'patientIds' ? textArrayLiteral(v as string[]) : v;
  }
  return out;
}

/**
 * Appends events in ONE statement with ONE parameter (a JSON array taken apart by PostgreSQL),
 * inside `tx` when given (the events commit with the write they record). Alone: `waitForFlush`
 * false commits without waiting for the WAL flush (AUDIT_READ_COMMIT=fast).
 */
export async function insertAuditRows(
  executor: Db | Tx,
  rows: AuditRow[],
  opts: { waitForFlush: boolean; inTx?: boolean; skipExisting?: boolean } = { waitForFlush: true },
): Promise<number> {
  if (rows.length === 0) return 0;
  // `skipExisting`: rows already stored are left out (a spool moved twice after a crash).
  const statement = sql`${INSERT_HEAD}${JSON.stringify(rows.map(toJsonRow))}${INSERT_TAIL}${opts.skipExisting ? sql` where not exists (select 1 from audit_event a where a.id = x.id)` : sql``}`;
  if (opts.inTx || opts.waitForFlush) {
    const result = await guarded(() => statement.execute(executor));
    return Number(result.numAffectedRows ?? 0);
  }
  return inTransaction(executor as Db, async (tx) => {
    await sql`set local synchronous_commit = off`.execute(tx);
    return Number((await statement.execute(tx)).numAffectedRows ?? 0);
  });
}

/** One condition of an audit search; values of one condition are alternatives, conditions all hold. */
export type AuditCondition =
  | { kind: 'in'; column: 'id' | 'client_id' | 'organization' | 'patient_agent' | 'action' | 'event_type' | 'subtype' | 'request_id' | 'client_ip' | 'entity_type' | 'role'; values: string[] }
  | { kind: 'outcome'; values: number[] }
  /** The event concerns one of these patients. */
  | { kind: 'patients'; ids: string[] }
  /** The event names one of these resources (a Patient also through the patients it concerns). */
  | { kind: 'entity'; refs: { type?: string; id: string }[] }
  /** `recorded` against FHIR date ranges ([low, high) of the search value), one of `matches`. */
  | { kind: 'recorded'; matches: { prefix: string; low: string; high: string }[] }
  /** Events with (true) or without (false) any patient. */
  | { kind: 'hasPatients'; value: boolean }
  | { kind: 'nothing' };

export interface AuditQuery {
  conditions: AuditCondition[];
  descending: boolean;
  limit: number;
  /** Keyset: continue after this (recorded, id) in the sort direction. */
  after?: { recorded: string; id: string };
}

function conditionSql(c: AuditCondition): RawBuilder<unknown> {
  switch (c.kind) {
    case 'in':
      return c.values.length ? sql`${sql.ref(c.column)} in (${sql.join(c.values)})` : sql`false`;
    case 'outcome':
      return c.values.length ? sql`outcome in (${sql.join(c.values)})` : sql`false`;
    case 'patients':
      return sql`patient_ids && ${textArrayLiteral(c.ids)}::text[]`;
    case 'entity': {
      const options = c.refs.map((r) => {
        const own = r.type ? sql`(entity_id = ${r.id} and entity_type = ${r.type})` : sql`entity_id = ${r.id}`;
        return !r.type || r.type === 'Patient' ? sql`(${own} or patient_ids @> array[${r.id}]::text[])` : own;
      });
      return options.length ? sql`(${sql.join(options, sql` or `)})` : sql`false`;
    }
    case 'recorded': {
      const options = c.matches.map((m) => recordedCompare(m));
      return options.length ? sql`(${sql.join(options, sql` or `)})` : sql`false`;
    }
    case 'hasPatients':
      return c.value ? sql`cardinality(patient_ids) > 0` : sql`cardinality(patient_ids) = 0`;
    case 'nothing':
      return sql`false`;
  }
}

/** FHIR date prefixes on an instant: the instant is the range [recorded, recorded + 1 ms). */
function recordedCompare(m: { prefix: string; low: string; high: string }): RawBuilder<unknown> {
  const lo = sql`cast(${m.low} as timestamptz)`;
  const hi = sql`cast(${m.high} as timestamptz)`;
  switch (m.prefix) {
    case 'ne':
      return sql`not (recorded >= ${lo} and recorded < ${hi})`;
    case 'gt':
    case 'sa':
      return sql`recorded >= ${hi}`;
    case 'lt':
    case 'eb':
      return sql`recorded < ${lo}`;
    case 'ge':
      return sql`recorded >= ${lo}`;
    case 'le':
      return sql`recorded < ${hi}`;
    default:
      return sql`(recorded >= ${lo} and recorded < ${hi})`;
  }
}

function whereSql(conditions: AuditCondition[]): RawBuilder<unknown> {
  return conditions.length ? sql.join(conditions.map(conditionSql), sql` and `) : sql`true`;
}

interface DbAuditRow {
  id: string;
  recorded: Date | string;
  period_start: Date | string | null;
  event_type: string;
  subtype: string;
  operation: string | null;
  action: string;
  outcome: number;
  outcome_desc: string | null;
  actor_kind: string | null;
  client_id: string | null;
  organization: string | null;
  role: string | null;
  patient_agent: string | null;
  purpose: string | null;
  patient_ids: string[] | string;
  entity_type: string | null;
  entity_id: string | null;
  entity_version: string | null;
  query: string | null;
  query_desc: string | null;
  request_id: string | null;
  client_ip: string | null;
  rule: string | null;
  legacy: string | null;
}

function parseTextArray(v: string[] | string): string[] {
  if (Array.isArray(v)) return v;
  const inner = v.slice(1, -1);
  if (!inner) return [];
  return inner.split(',').map((s) => s.replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1'));
}

function fromDb(r: DbAuditRow): AuditRow {
  const u = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
  return {
    id: r.id,
    recorded: r.recorded instanceof Date ? r.recorded : new Date(r.recorded),
    periodStart: r.period_start === null ? undefined : r.period_start instanceof Date ? r.period_start : new Date(r.period_start),
    eventType: r.event_type === 'login' ? 'login' : 'rest',
    subtype: r.subtype,
    operation: u(r.operation),
    action: r.action,
    outcome: Number(r.outcome),
    outcomeDesc: u(r.outcome_desc),
    actorKind: r.actor_kind === 'client' || r.actor_kind === 'patient' ? r.actor_kind : undefined,
    clientId: u(r.client_id),
    organization: u(r.organization),
    role: u(r.role),
    patientAgent: u(r.patient_agent),
    purpose: u(r.purpose),
    patientIds: parseTextArray(r.patient_ids),
    entityType: u(r.entity_type),
    entityId: u(r.entity_id),
    entityVersion: u(r.entity_version),
    query: u(r.query),
    queryDesc: u(r.query_desc),
    requestId: u(r.request_id),
    clientIp: u(r.client_ip),
    rule: u(r.rule),
    legacy: u(r.legacy),
  };
}

/** One page of events in (recorded, id) order; `limit + 1` rows tell whether more follow. */
export async function findAuditRows(db: Db | Tx, q: AuditQuery): Promise<AuditRow[]> {
  const dir = q.descending ? sql`desc` : sql`asc`;
  const after = q.after
    ? q.descending
      ? sql` and (recorded, id) < (cast(${q.after.recorded} as timestamptz), ${q.after.id})`
      : sql` and (recorded, id) > (cast(${q.after.recorded} as timestamptz), ${q.after.id})`
    : sql``;
  const result = await guarded(() =>
    sql<DbAuditRow>`select * from audit_event where ${whereSql(q.conditions)}${after} order by recorded ${dir}, id ${dir} limit ${q.limit}`.execute(db),
  );
  return result.rows.map(fromDb);
}

export async function countAuditRows(db: Db | Tx, conditions: AuditCondition[]): Promise<number> {
  const result = await guarded(() => sql<{ n: string }>`select count(*) as n from audit_event where ${whereSql(conditions)}`.execute(db));
  return Number(result.rows[0]?.n ?? 0);
}
