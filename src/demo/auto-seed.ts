/**
 * The demo country at start-up (SEED_DEMO): decided once after migrations,
 * then loaded in the background so the server answers at once. Logs counts
 * and progress only, never resource content or identifiers.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { FhirContext } from '../fhir/context';
import type { Db } from '../store/transaction';
import { generateDemoCountry, toTransactionBundles, type DemoCountryOptions } from './demo-country';
import { loadDemoBundles, type DemoLoadReport } from './demo-loader';

/** Small Bundles: on the embedded database requests wait while one is written (about 0.3 s for 50 entries). */
const STARTUP_BUNDLE_SIZE = 50;

export async function hasPatients(db: Db): Promise<boolean> {
  const row = await db.selectFrom('resource').select('id').where('resource_type', '=', 'Patient').where('deleted', '=', false).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Why the demo country is (not) loaded at this start; `load` says whether to. */
export async function demoSeedDecision(config: Config, db: Db, kind: 'postgres' | 'pglite'): Promise<{ load: boolean; reason: string }> {
  if (config.seedDemo === 'off') return { load: false, reason: 'SEED_DEMO=off' };
  if (config.seedDemo === 'on') return { load: true, reason: 'SEED_DEMO=on' };
  if (kind !== 'pglite') return { load: false, reason: 'SEED_DEMO=auto loads the embedded database only' };
  if (await hasPatients(db)) return { load: false, reason: 'the database already holds patients' };
  return { load: true, reason: 'SEED_DEMO=auto and the embedded database is empty' };
}

export interface DemoSeedRun {
  /** Resolves with the report when loading ends (undefined when nothing was loaded); never rejects. */
  done: Promise<DemoLoadReport | undefined>;
  /** Stops after the Bundle in flight and waits for it. */
  stop(): Promise<void>;
}

export function startDemoSeed(deps: {
  ctx: FhirContext;
  kind: 'postgres' | 'pglite';
  logger: Logger;
  sizes?: Partial<DemoCountryOptions>;
  isShuttingDown: () => boolean;
}): DemoSeedRun {
  const { ctx, logger } = deps;
  let stopping = false;
  const done = (async (): Promise<DemoLoadReport | undefined> => {
    const decision = await demoSeedDecision(ctx.config, ctx.db, deps.kind);
    if (!decision.load) {
      logger.debug({ reason: decision.reason }, 'demo seed skipped');
      return undefined;
    }
    const country = generateDemoCountry(deps.sizes);
    const bundles = toTransactionBundles(country.entries, STARTUP_BUNDLE_SIZE);
    logger.info({ reason: decision.reason, resources: country.entries.length, bundles: bundles.length }, 'demo seed: loading the demo country in the background');
    let lastLog = Date.now();
    const report = await loadDemoBundles(ctx, bundles, {
      shouldStop: () => stopping || deps.isShuttingDown(),
      onProgress: (p) => {
        if (Date.now() - lastLog < 5000) return;
        lastLog = Date.now();
        logger.info(p, 'demo seed progress');
      },
    });
    const summary = { created: report.created, existing: report.existing, rejected: report.rejected, ms: report.ms };
    if (report.failures.length > 0) {
      // Issue codes and element paths only: diagnostics may quote values.
      const issues = report.failures[0].issues.map((i) => ({ code: i.nhisCode ?? i.code, expression: i.expression }));
      logger.warn({ ...summary, status: report.failures[0].status, issues }, 'demo seed stopped: a Bundle was refused');
    } else if (report.stopped) logger.info(summary, 'demo seed interrupted; `npm run seed` completes it');
    else logger.info(summary, 'demo seed done (`npm run seed` prints example identifiers to try)');
    return report;
  })().catch((err: unknown) => {
    logger.error({ err: { message: (err as Error)?.message } }, 'demo seed failed');
    return undefined;
  });
  return {
    done,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}
