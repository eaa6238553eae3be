/** Resumable background reindex. */
import { sql } from 'kysely';
import pino from 'pino';
import { runReindex } from '../../../src/store/search/reindex';
import { readReindexJob } from '../../../src/repository/search-reindex';
import { openFixture, type SearchFixture } from './fixture';

let f: SearchFixture;

beforeAll(async () => {
  f = await openFixture('postgres');
  for (let i = 0; i < 23; i++) await f.put({ resourceType: 'Patient', id: `r${String(i).padStart(2, '0')}`, gender: 'female', name: [{ family: 'Reindex' }] });
}, 180_000);

afterAll(async () => {
  await f?.close();
});

test('rebuilds a wiped index, resumes after a pause, records progress', async () => {
  await sql`delete from search_string`.execute(f.handle.db);
  await sql`delete from search_token`.execute(f.handle.db);
  expect(await f.ids('Patient', 'family=reindex')).toEqual([]);

  const controller = new AbortController();
  const logger = pino({ level: 'silent' });
  const paused = await runReindex({
    db: f.handle.db, logger, jobId: 'j1', batchSize: 5, signal: controller.signal,
    onProgress: (p) => { if (p.processed >= 10) controller.abort(); },
  });
  expect(paused).toMatchObject({ done: false, processed: 10, total: 23 });
  expect((await readReindexJob(f.handle.db, 'j1'))?.status).toBe('paused');
  expect((await f.ids('Patient', 'family=reindex')).length).toBe(10);

  const done = await runReindex({ db: f.handle.db, logger, jobId: 'j1', batchSize: 5 });
  expect(done).toMatchObject({ done: true, processed: 23 });
  expect((await f.ids('Patient', 'family=reindex&_count=100')).length).toBe(23);
  expect(await readReindexJob(f.handle.db, 'j1')).toMatchObject({ status: 'done', after_id: 'r22' });
});
