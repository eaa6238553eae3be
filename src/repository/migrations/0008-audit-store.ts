import { Kysely, sql } from 'kysely';
import { auditPartitionDdl, monthsBetween } from '../audit-partitions';

/**
 * The audit trail gets a store of its own (issue 15, decision 1; needed by issue 11 for one
 * AuditEvent per written resource): an append-only table of compact typed columns, partitioned by
 * month of `recorded`, with only the indexes its queries use. The FHIR AuditEvent is built from the
 * row when read. Until now each event was a generic resource: a resource row, a history row and
 * about 16 search-index rows, written through an outbox.
 *
 * Events already stored move in: their typed columns are extracted from the JSON, and the JSON
 * itself is kept (`legacy`, served as it was) without its query entities, which could hold access
 * codes and claim secrets (new events store the query with secrets redacted). Then the generic rows and the outbox go.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table audit_event (
      id text not null,
      recorded timestamptz not null,
      period_start timestamptz,
      event_type text not null,
      subtype text not null,
      operation text,
      action text not null,
      outcome smallint not null,
      outcome_desc text,
      actor_kind text,
      client_id text,
      organization text,
      role text,
      patient_agent text,
      purpose text,
      patient_ids text[] not null default '{}',
      entity_type text,
      entity_id text,
      entity_version text,
      query text,
      query_desc text,
      request_id text,
      client_ip text,
      rule text,
      legacy text,
      primary key (recorded, id)
    ) partition by range (recorded)`.execute(db);
  await sql`create table audit_event_default partition of audit_event default`.execute(db);
  await sql`create index audit_event_id on audit_event (id)`.execute(db);
  await sql`create index audit_event_patients on audit_event using gin (patient_ids)`.execute(db);
  await sql`create index audit_event_client on audit_event (client_id, recorded)`.execute(db);
  await sql`create index audit_event_organization on audit_event (organization, recorded)`.execute(db);
  await sql`create index audit_event_entity on audit_event (entity_id, recorded)`.execute(db);
  await sql`create index audit_event_subtype on audit_event (subtype, recorded)`.execute(db);

  // Partitions for every month an existing event falls in, and around today.
  const span = await sql<{ lo: Date | string | null; hi: Date | string | null }>`
    select min(t) as lo, max(t) as hi from (
      select coalesce((content::jsonb->>'recorded')::timestamptz, last_updated) as t from resource where resource_type = 'AuditEvent'
      union all select last_updated from audit_outbox) x`.execute(db);
  const now = new Date();
  const lo = span.rows[0]?.lo ? new Date(span.rows[0].lo) : now;
  const hi = span.rows[0]?.hi ? new Date(span.rows[0].hi) : now;
  const first = new Date(Math.min(lo.getTime(), now.getTime() - 31 * 86_400_000));
  const last = new Date(Math.max(hi.getTime(), now.getTime() + 62 * 86_400_000));
  for (const month of monthsBetween(first, last)) await sql.raw(auditPartitionDdl(month)).execute(db);

  await sql`
    with stored as (
      select r.id, r.last_updated, r.content::jsonb as c from resource r where r.resource_type = 'AuditEvent'
      union all select o.id, o.last_updated, o.content::jsonb from audit_outbox o
    )
    insert into audit_event (id, recorded, event_type, subtype, action, outcome, outcome_desc, client_id, organization,
      patient_agent, patient_ids, entity_type, entity_id, entity_version, request_id, client_ip, legacy)
    select s.id,
      coalesce((s.c->>'recorded')::timestamptz, s.last_updated),
      case when s.c->'type'->>'code' = '110114' then 'login' else 'rest' end,
      coalesce(s.c->'subtype'->0->>'code', 'unknown'),
      coalesce(s.c->>'action', 'E'),
      coalesce((s.c->>'outcome')::smallint, 0),
      s.c->>'outcomeDesc',
      s.c->'agent'->0->'who'->'identifier'->>'value',
      (select a->'who'->'identifier'->>'value' from jsonb_array_elements(coalesce(s.c->'agent', '[]'::jsonb)) a
        where a->'type'->'coding'->0->>'code' = 'PROV' limit 1),
      (select substring(a->'who'->>'reference' from 9) from jsonb_array_elements(coalesce(s.c->'agent', '[]'::jsonb)) a
        where a->'who'->>'reference' like 'Patient/%' limit 1),
      coalesce(array(select substring(e->'what'->>'reference' from 9) from jsonb_array_elements(coalesce(s.c->'entity', '[]'::jsonb)) e
        where e->'what'->>'reference' like 'Patient/%'), '{}'),
      split_part(w.ref, '/', 1), nullif(split_part(w.ref, '/', 2), ''), nullif(split_part(w.ref, '/', 4), ''),
      (select e->'what'->'identifier'->>'value' from jsonb_array_elements(coalesce(s.c->'entity', '[]'::jsonb)) e
        where e->'type'->>'code' = 'XrequestId' limit 1),
      s.c->'agent'->0->'network'->>'address',
      (case when s.c ? 'entity'
        then jsonb_set(s.c, '{entity}', coalesce((select jsonb_agg(e - 'query') from jsonb_array_elements(s.c->'entity') e
          where coalesce(e->'role'->>'code', '') <> '24'), '[]'::jsonb))
        else s.c end)::text
    from stored s
    left join lateral (
      select e->'what'->>'reference' as ref from jsonb_array_elements(coalesce(s.c->'entity', '[]'::jsonb)) e
      where e->'role'->>'code' = '4' limit 1) w on true`.execute(db);

  for (const table of ['string', 'token', 'date', 'number', 'quantity', 'reference', 'uri']) {
    await sql`delete from ${sql.table(`search_${table}`)} where resource_type = 'AuditEvent'`.execute(db);
  }
  await sql`delete from resource_history where resource_type = 'AuditEvent'`.execute(db);
  await sql`delete from resource where resource_type = 'AuditEvent'`.execute(db);
  await sql`drop table audit_outbox`.execute(db);
}
