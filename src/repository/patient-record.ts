import { sql } from 'kysely';
import type { Db } from './db';
import { filterCondition, type Filter } from './search-query';
import { guarded } from './transaction';

export interface PatientRecordQuery {
  patientId: string;
  /** `Type.param` pairs that put a resource in the Patient compartment (from the CompartmentDefinition). */
  compartmentParams: { resourceType: string; params: string[] }[];
  /** Only resources changed at or after this instant. */
  since?: Date;
  /** Keyset position: rows after this (resource_type, id). */
  after?: { resourceType: string; id: string };
  limit: number;
  /** The caller's access scope as a filter on the rows. */
  visible: Filter;
}

export interface PatientRecordRow {
  resource_type: string;
  id: string;
  content: string;
}

/**
 * One page of a patient's whole record (Patient/$everything): the Patient and every current
 * resource whose compartment parameters reference it, in (type, id) order so pages are stable
 * while data changes. Only the listed types are read, so callers pass the types the client may see.
 */
export async function readPatientRecordPage(db: Db, q: PatientRecordQuery): Promise<PatientRecordRow[]> {
  const members = q.compartmentParams.filter((c) => c.params.length > 0 && c.resourceType !== 'Patient');
  const includePatient = q.compartmentParams.some((c) => c.resourceType === 'Patient');
  const inCompartment = members.length
    ? sql`(r.resource_type, r.id) in (
        select sr.resource_type, sr.resource_id from search_reference sr
        where sr.target_id = ${q.patientId} and sr.target_type = 'Patient'
          and (${sql.join(
            members.map((m) => sql`(sr.resource_type = ${m.resourceType} and sr.param in (${sql.join(m.params.map((p) => sql`${p}`))}))`),
            sql` or `,
          )}))`
    : sql`false`;
  const self = includePatient ? sql`(r.resource_type = 'Patient' and r.id = ${q.patientId})` : sql`false`;
  const since = q.since ? sql`and r.last_updated >= ${q.since}` : sql``;
  const after = q.after ? sql`and (r.resource_type, r.id) > (${q.after.resourceType}, ${q.after.id})` : sql``;
  return guarded(async () => {
    const { rows } = await sql<PatientRecordRow>`
      select r.resource_type, r.id, r.content from resource r
      where not r.deleted and (${self} or ${inCompartment}) and ${filterCondition(q.visible)} ${since} ${after}
      order by r.resource_type, r.id
      limit ${q.limit}`.execute(db);
    return rows;
  });
}
