/**
 * `npm run seed`: loads the demo country (src/demo/) into the database `npm start` uses
 * (DATABASE_URL, otherwise the embedded database in DATA_DIR, default ./data), through the
 * server's validated transaction processing. Idempotent: a second run adds nothing.
 *
 *   npm run seed [-- --patients 3000 --practitioners 3000 --facilities 300 --pharmacies 80 --regions 6 --seed 20260101 --bundle-size 250]
 *
 * Stop a server running on the same embedded database first: only one process may open it.
 */
import { createApp } from '../src/app';
import { isLocalServerRunning } from '../src/auth/development-credentials';
import { locateServer } from '../src/auth/issuer';
import { ConfigError, loadConfig, type Config } from '../src/config/config';
import { DEFAULT_DEMO_SIZES, EGN_SYSTEM, generateDemoCountry, toTransactionBundles, type DemoCountryOptions } from '../src/demo/demo-country';
import { loadDemoBundles } from '../src/demo/demo-loader';
import { FACILITY_CODE_SYSTEM, PRACTITIONER_NUMBER_SYSTEM } from '../src/domain/registry/registry-systems';
import { databaseOptionsOf, openDatabase } from '../src/repository/db';
import { migrateToLatest } from '../src/repository/migrate';
import { createLogger } from '../src/shared/logger';

const FLAGS: Record<string, keyof DemoCountryOptions | 'bundleSize'> = {
  '--patients': 'patients',
  '--practitioners': 'practitioners',
  '--facilities': 'facilities',
  '--pharmacies': 'pharmacies',
  '--regions': 'regions',
  '--seed': 'seed',
  '--bundle-size': 'bundleSize',
};

function parseArgs(argv: string[]): { sizes: Partial<DemoCountryOptions>; bundleSize: number; continueOnError: boolean } {
  const sizes: Partial<DemoCountryOptions> = {};
  let bundleSize = 250;
  let continueOnError = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--continue-on-error') {
      continueOnError = true;
      continue;
    }
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`npm run seed -- ${Object.keys(FLAGS).map((f) => `[${f} N]`).join(' ')} [--continue-on-error]\n`);
      process.exit(0);
    }
    const [flag, inline] = arg.split('=', 2);
    const key = FLAGS[flag];
    const raw = inline ?? argv[++i];
    if (!key || raw === undefined || !/^\d+$/.test(raw)) throw new ConfigError([`bad argument '${arg}'; try --help`]);
    if (key === 'bundleSize') bundleSize = Number(raw);
    else sizes[key] = Number(raw);
  }
  return { sizes, bundleSize, continueOnError };
}

async function main(): Promise<void> {
  let config: Config;
  let args: ReturnType<typeof parseArgs>;
  try {
    config = loadConfig(process.env);
    args = parseArgs(process.argv.slice(2));
    if (process.env.NODE_ENV === 'production') throw new ConfigError(['the demo country holds invented patients and is not loaded when NODE_ENV=production']);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (!config.databaseUrl && (await isLocalServerRunning(locateServer(config).url))) {
    process.stderr.write(
      `A server answers at ${locateServer(config).url}: stop it first, the embedded database admits one process.\n` +
        '(Started on an empty embedded database, the server loads the demo country itself: SEED_DEMO=auto.)\n',
    );
    process.exit(2);
  }
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const country = generateDemoCountry(args.sizes);
  const bundles = toTransactionBundles(country.entries, args.bundleSize);
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `the embedded database in ${config.dataDir}`;
  const o = country.options;
  process.stdout.write(
    `Demo country (seed ${o.seed}): ${o.regions} regions, ${o.facilities} facilities (${o.pharmacies} pharmacies), ${o.practitioners} practitioners, ${o.patients} patients\n` +
      `= ${country.entries.length} resources in ${bundles.length} transaction Bundles, into ${where} (REGISTRY_MODE=${config.registryMode})\n`,
  );

  const handle = await openDatabase(databaseOptionsOf(config, logger));
  let failed = false;
  try {
    await migrateToLatest(handle.db);
    // The same composition root as the server: validation, national profiles, registry hooks, search indexing.
    const { ctx, stopBackground } = createApp({ config, db: handle.db, logger });
    await stopBackground();
    let lastLine = 0;
    const report = await loadDemoBundles(ctx, bundles, {
      continueOnError: args.continueOnError,
      onProgress: (p) => {
        if (!process.stdout.isTTY || (Date.now() - lastLine < 500 && p.bundlesDone < p.bundles)) return;
        lastLine = Date.now();
        process.stdout.write(`\r  ${p.bundlesDone}/${p.bundles} Bundles, ${p.created} created, ${p.existing} already there`);
      },
    });
    if (process.stdout.isTTY) process.stdout.write('\n');
    const types = [...new Set([...Object.keys(country.counts)])];
    const width = Math.max(...types.map((t) => t.length));
    process.stdout.write(`\n${'type'.padEnd(width)}  generated  created  already there\n`);
    for (const t of types) {
      process.stdout.write(`${t.padEnd(width)}  ${String(country.counts[t]).padStart(9)}  ${String(report.created[t] ?? 0).padStart(7)}  ${String(report.existing[t] ?? 0).padStart(13)}\n`);
    }
    const created = Object.values(report.created).reduce((a, b) => a + b, 0);
    process.stdout.write(`\n${created} created, ${report.rejected} rejected, in ${(report.ms / 1000).toFixed(1)} s\n`);
    for (const f of report.failures) {
      failed = true;
      process.stderr.write(`\nBundle ${f.bundle + 1} refused (HTTP ${f.status}):\n${f.issues.map((i) => `  - ${i.nhisCode ?? i.code} ${i.expression?.join(', ') ?? ''}: ${i.diagnostics}`).join('\n')}\n`);
    }
    const ex = country.examples;
    const q = (system: string, value: string) => encodeURIComponent(`${system}|${value}`);
    process.stdout.write(
      `\nTry (with a token from \`npm run token\`, see README):\n` +
        `  hospital        ${ex.hospital.code}  ${ex.hospital.name}\n` +
        `  pharmacy        ${ex.pharmacy.code}  ${ex.pharmacy.name}\n` +
        `  GP (practitioner number) ${ex.gpPractitionerNumber}\n` +
        `  patients (EGN)  ${ex.patientEgns.join('  ')}\n\n` +
        `  GET /Organization?identifier=${q(FACILITY_CODE_SYSTEM, ex.hospital.code)}\n` +
        `  GET /Organization?type=pharmacy&address-city=${encodeURIComponent(String(ex.pharmacy.name.split(' - ').pop()))}\n` +
        `  GET /PractitionerRole?practitioner.identifier=${q(PRACTITIONER_NUMBER_SYSTEM, ex.gpPractitionerNumber)}\n` +
        `  GET /Patient?identifier=${q(EGN_SYSTEM, ex.patientEgns[0] ?? '')}\n`,
    );
    if (o.seed === DEFAULT_DEMO_SIZES.seed) process.stdout.write('  (the same identifiers every time: the demo country is deterministic)\n');
  } finally {
    await handle.close();
  }
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`seed failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
