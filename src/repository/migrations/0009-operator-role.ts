import { Kysely, sql } from 'kysely';

/**
 * Clients may have the `operator` role (issue 11): administering the client registry becomes a
 * duty of its own, taken away from registry administrators.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table auth_client drop constraint auth_client_role`.execute(db);
  await sql`alter table auth_client add constraint auth_client_role
    check (role in ('hospital', 'prescriber', 'pharmacy', 'laboratory', 'registry-admin', 'analyst', 'auditor', 'operator', 'patient'))`.execute(db);
}
