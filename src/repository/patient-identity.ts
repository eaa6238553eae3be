import type { Db } from './db';
import type { Tx } from './transaction';

export interface NationalIdRow {
  system: string;
  value: string;
}

/**
 * Replaces the national identifiers held by a patient. Returns the identifiers
 * that another patient already holds (nothing is claimed for those).
 */
export async function claimNationalIds(
  tx: Tx,
  patientId: string,
  ids: NationalIdRow[],
): Promise<{ system: string; value: string; holder: string }[]> {
  await tx.deleteFrom('patient_national_id').where('patient_id', '=', patientId).execute();
  if (ids.length === 0) return [];
  const inserted = await tx
    .insertInto('patient_national_id')
    .values(ids.map((i) => ({ system: i.system, value: i.value, patient_id: patientId })))
    .onConflict((oc) => oc.columns(['system', 'value']).doNothing())
    .returning(['system', 'value'])
    .execute();
  if (inserted.length === ids.length) return [];
  const claimed = new Set(inserted.map((r) => `${r.system}|${r.value}`));
  const clashes = ids.filter((i) => !claimed.has(`${i.system}|${i.value}`));
  const holders = await tx
    .selectFrom('patient_national_id')
    .select(['system', 'value', 'patient_id'])
    .where((eb) => eb.or(clashes.map((c) => eb.and([eb('system', '=', c.system), eb('value', '=', c.value)]))))
    .execute();
  return holders.map((h) => ({ system: h.system, value: h.value, holder: h.patient_id }));
}

export async function releaseNationalIds(tx: Tx, patientId: string): Promise<void> {
  await tx.deleteFrom('patient_national_id').where('patient_id', '=', patientId).execute();
}

/** The active Patient holding a national identifier (any enabled scheme), if any. */
export async function findPatientByNationalId(db: Db, value: string, systems: readonly string[]): Promise<string | undefined> {
  if (systems.length === 0) return undefined;
  const row = await db
    .selectFrom('patient_national_id')
    .select('patient_id')
    .where('value', '=', value)
    .where('system', 'in', [...systems])
    .executeTakeFirst();
  return row?.patient_id;
}
