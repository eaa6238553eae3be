// The local audit spool (used while PostgreSQL is out of reach): durable lines, moved into the
// audit table once, whatever crashes in between; files of live other processes are left alone.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { insertAuditRows } from '../../src/repository/audit-events';
import { openAuditSpool, auditSpoolDir } from '../../src/repository/audit-spool';
import { openDatabase, type DbHandle } from '../../src/repository/db';
import { migrateToLatest } from '../../src/repository/migrate';
import { toAuditRow } from '../../src/store/audit/audit-input';
import { createTestDatabase, type TestDatabase } from '../support/db';

let database: TestDatabase;
let handle: DbHandle;
let dataDir: string;
beforeAll(async () => {
  database = await createTestDatabase();
  handle = await openDatabase({ databaseUrl: database.url });
  await migrateToLatest(handle.db);
  dataDir = mkdtempSync(path.join(tmpdir(), 'nhis-spool-'));
});
afterAll(async () => {
  await handle.close();
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const event = (id: string) => toAuditRow({ interaction: 'authenticate', patientIds: [], outcome: 'minor-failure', requestId: `spool-${id}`, when: new Date('2030-01-01T00:00:00Z') }, id);

async function outboxIds(): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`select id from audit_event order by id`.execute(handle.db);
  return rows.map((r) => r.id);
}

test('spooled events are moved once; a move repeated after a crash adds nothing; a live process keeps its file', async () => {
  const dir = auditSpoolDir(dataDir, database.url);
  expect(dir.startsWith(path.join(dataDir, 'audit-spool'))).toBe(true);
  // Another database's spool is another directory.
  expect(auditSpoolDir(dataDir, database.url.replace(/\/([^/]+)$/, '/other'))).not.toBe(dir);

  const spool = openAuditSpool(dir);
  await spool.append([event('s-1'), event('s-2')]);
  await spool.append([event('s-3')]);
  expect(await spool.hasPending()).toBe(true);
  // A copy, as if the process had crashed after the move's commit and before deleting the file;
  // named for a process that is gone.
  const [file] = readdirSync(dir);
  const orphan = path.join(dir, `999999999-x-0.jsonl`);
  copyFileSync(path.join(dir, file), orphan);
  // A live process's file (the parent of this one) is not touched.
  const live = path.join(dir, `${process.ppid}-x-0.jsonl`);
  writeFileSync(live, `${JSON.stringify({ ...event('s-live'), lastUpdated: '2030-01-01T00:00:00Z' })}\n`);

  expect(await spool.moveInto(handle.db)).toBe(3);
  expect(await outboxIds()).toEqual(['s-1', 's-2', 's-3']);
  expect(readdirSync(dir)).toEqual([path.basename(live)]);
  // Appending again opens a new file; moving it adds only the new event.
  await spool.append([event('s-4')]);
  expect(await spool.moveInto(handle.db)).toBe(1);
  expect(await outboxIds()).toEqual(['s-1', 's-2', 's-3', 's-4']);
  // Events already in the audit table are not moved again either.
  await insertAuditRows(handle.db, [event('s-5')]);
  await spool.append([event('s-5')]);
  expect(await spool.moveInto(handle.db)).toBe(0);
  rmSync(live);
  await spool.close();
  expect(existsSync(orphan)).toBe(false);
});
