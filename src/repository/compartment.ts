import { sql } from 'kysely';
import type { Db } from './db';
import type { Tx } from './transaction';
import { guarded } from './transaction';

/**
 * Of the given resources, those in the compartment of Patient/{patientId}:
 * the patient itself, or a resource whose compartment parameters reference it
 * (read from the search index written with the resource).
 */
export async function inPatientCompartment(
  db: Db | Tx,
  refs: { resourceType: string; id: string; params: string[] }[],
  patientId: string,
): Promise<Set<string>> {
  const keep = new Set<string>();
  const others = refs.filter((r) => {
    if (r.resourceType === 'Patient' && r.id === patientId) {
      keep.add(`Patient/${patientId}`);
      return false;
    }
    return r.params.length > 0;
  });
  if (others.length === 0) return keep;
  return guarded(async () => {
    const rows = await db
      .selectFrom('search_reference' as never)
      .select([sql<string>`resource_type`.as('resource_type'), sql<string>`resource_id`.as('resource_id')])
      .where(sql<boolean>`target_type = 'Patient' and target_id = ${patientId}`)
      .where(
        sql<boolean>`(${sql.join(
          others.map((r) => sql`(resource_type = ${r.resourceType} and resource_id = ${r.id} and param in (${sql.join(r.params.map((p) => sql`${p}`))}))`),
          sql` or `,
        )})`,
      )
      .execute();
    for (const r of rows as { resource_type: string; resource_id: string }[]) keep.add(`${r.resource_type}/${r.resource_id}`);
    return keep;
  });
}

/** The Patients a stored resource belongs to through its compartment parameters (for the audit of a refused access). */
export async function patientsOfResource(db: Db | Tx, resourceType: string, id: string, params: string[]): Promise<string[]> {
  if (resourceType === 'Patient') return [id];
  if (params.length === 0) return [];
  return guarded(async () => {
    const rows = await db
      .selectFrom('search_reference' as never)
      .select(sql<string>`distinct target_id`.as('target_id'))
      .where(sql<boolean>`resource_type = ${resourceType} and resource_id = ${id} and target_type = 'Patient' and param in (${sql.join(params.map((p) => sql`${p}`))})`)
      .limit(20)
      .execute();
    return (rows as { target_id: string }[]).map((r) => r.target_id);
  });
}
