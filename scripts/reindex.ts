/**
 * Rebuilds the search index in the background, resumably.
 *   DATABASE_URL=postgres://... node --experimental-strip-types scripts/reindex.ts [jobId] [ResourceType]
 * (or compile with tsc first). Re-running with the same jobId resumes it; Ctrl-C pauses it.
 */
import { openDatabase } from '../src/repository/db';
import { migrateToLatest } from '../src/repository/migrate';
import { runReindex } from '../src/store/search/reindex';
import { createLogger } from '../src/shared/logger';

async function main(): Promise<void> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'info');
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is required');
  const jobId = process.argv[2] ?? `reindex-${new Date().toISOString().slice(0, 10)}`;
  const resourceType = process.argv[3];
  const handle = await openDatabase({ databaseUrl, logger });
  await migrateToLatest(handle.db);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  let lastLog = 0;
  const result = await runReindex({
    db: handle.db,
    logger,
    jobId,
    resourceType,
    signal: controller.signal,
    onProgress: (p) => {
      if (Date.now() - lastLog > 2000 || p.done) {
        lastLog = Date.now();
        logger.info(p, 'reindex progress');
      }
    },
  });
  logger.info(result, result.done ? 'reindex finished' : 'reindex paused; run again to resume');
  await handle.close();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
