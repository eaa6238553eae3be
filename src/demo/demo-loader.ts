/**
 * Loads demo transaction Bundles through the server's own transaction
 * processing (`bundleInteraction`, what `POST /` runs): validation, national
 * profiles and identifiers, registry hooks and search indexing all apply.
 *
 * Idempotent: before a Bundle is sent, entries whose identifier already
 * matches a stored resource are left out (references to them become the
 * conditional reference `Type?identifier=…`), so a second run writes nothing
 * and keeps no extra history versions. An interrupted run resumes where it
 * stopped. The upserts themselves are conditional (`PUT Type?identifier=…`),
 * so two seeds racing each other still cannot create duplicates.
 */
import { FhirError, type Issue } from '../errors/fhir-error';
import type { FhirContext } from '../fhir/context';
import { bundleInteraction } from '../fhir/bundle/bundle-interaction';
import { parseJson } from '../shared/json';
import { SERVER_SCOPE } from '../store/access/access-scope';
import { matchResourceIds } from '../store/search/search-resources';
import type { TransactionBundle } from './demo-country';

export interface DemoLoadProgress {
  bundlesDone: number;
  bundles: number;
  created: number;
  existing: number;
}

export interface DemoLoadOptions {
  /** Called after every Bundle (no resource content, only counts). */
  onProgress?: (p: DemoLoadProgress) => void;
  /** Checked between Bundles; true stops the load (e.g. on shutdown). */
  shouldStop?: () => boolean;
  /** Keep going after a rejected Bundle (its entries count as rejected); default: stop at the first. */
  continueOnError?: boolean;
}

export interface DemoLoadReport {
  /** New resources per type. */
  created: Record<string, number>;
  /** Entries already in the database (left out, or matched by a concurrent seed), per type. */
  existing: Record<string, number>;
  /** Entries of Bundles the server refused. */
  rejected: number;
  /** The first issues of each refused Bundle. */
  failures: { bundle: number; status: number; issues: Issue[] }[];
  bundlesSent: number;
  bundles: number;
  stopped: boolean;
  ms: number;
}

type Entry = TransactionBundle['entry'][number];

const bump = (counts: Record<string, number>, type: string, by = 1) => {
  counts[type] = (counts[type] ?? 0) + by;
};

/** `Type?identifier=…` → type and search criteria. */
function splitUrl(url: string): { type: string; criteria: URLSearchParams } {
  const q = url.indexOf('?');
  return { type: url.slice(0, q), criteria: new URLSearchParams(url.slice(q + 1)) };
}

/** The entries (by index) whose conditional URL already matches a stored resource. */
async function existingEntries(ctx: FhirContext, entries: Entry[]): Promise<Set<number>> {
  const found = new Set<number>();
  const byType = new Map<string, number[]>();
  entries.forEach((e, i) => byType.set(splitUrl(e.request.url).type, [...(byType.get(splitUrl(e.request.url).type) ?? []), i]));
  for (const [type, indexes] of byType) {
    // One OR search per 50 identifiers: on a first run nothing matches and that is all it costs.
    for (let k = 0; k < indexes.length; k += 50) {
      const group = indexes.slice(k, k + 50);
      const values = group.map((i) => splitUrl(entries[i].request.url).criteria.get('identifier')!.replace(/,/g, '\\,'));
      const any = await matchResourceIds(ctx.db, SERVER_SCOPE, type, new URLSearchParams({ identifier: values.join(',') }), 1);
      if (any.length === 0) continue;
      for (const i of group) {
        const { criteria } = splitUrl(entries[i].request.url);
        if ((await matchResourceIds(ctx.db, SERVER_SCOPE, type, criteria, 1)).length > 0) found.add(i);
      }
    }
  }
  return found;
}

/** The Bundle without the entries already stored; references to those become conditional references. */
function withoutExisting(bundle: TransactionBundle, skip: Set<number>): TransactionBundle {
  if (skip.size === 0) return bundle;
  const replaced = new Map<string, string>();
  bundle.entry.forEach((e, i) => skip.has(i) && replaced.set(e.fullUrl, e.request.url));
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === 'reference' && typeof v === 'string' ? (replaced.get(v) ?? v) : rewrite(v);
    return out;
  };
  return { ...bundle, entry: bundle.entry.filter((_, i) => !skip.has(i)).map((e) => ({ ...e, resource: rewrite(e.resource) as Entry['resource'] })) };
}

/**
 * Lets I/O and timers run. The embedded database answers queries without going
 * through the event loop, so a load that never yields would hold off every
 * HTTP request until it ends.
 */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Writes the Bundles in order, one database transaction each. */
export async function loadDemoBundles(ctx: FhirContext, bundles: readonly TransactionBundle[], opts: DemoLoadOptions = {}): Promise<DemoLoadReport> {
  const started = Date.now();
  const report: DemoLoadReport = { created: {}, existing: {}, rejected: 0, failures: [], bundlesSent: 0, bundles: bundles.length, stopped: false, ms: 0 };
  let created = 0;
  let existing = 0;
  for (let b = 0; b < bundles.length; b++) {
    if (opts.shouldStop?.()) {
      report.stopped = true;
      break;
    }
    await yieldToEventLoop();
    const skip = await existingEntries(ctx, bundles[b].entry);
    await yieldToEventLoop();
    for (const i of skip) bump(report.existing, splitUrl(bundles[b].entry[i].request.url).type);
    existing += skip.size;
    const bundle = withoutExisting(bundles[b], skip);
    if (bundle.entry.length > 0) {
      report.bundlesSent++;
      try {
        const response = await bundleInteraction(ctx, {
          method: 'POST',
          params: {},
          query: new URLSearchParams(),
          // Parsed as an HTTP body would be (decimals as lossless numbers).
          body: parseJson(JSON.stringify(bundle)),
          headers: { prefer: 'return=minimal' },
          // The server loading its own demo data: no caller's restrictions apply, writes are audited as the server.
          scope: SERVER_SCOPE,
          baseUrl: ctx.config.baseUrl ?? 'http://localhost',
          requestId: `demo-seed-${b}`,
        });
        const answer = JSON.parse(response.rawBody ?? '{}') as { entry?: { response?: { status?: string; location?: string } }[] };
        for (const e of answer.entry ?? []) {
          const type = String(e.response?.location ?? '').split('/')[0];
          if (e.response?.status?.startsWith('201')) {
            bump(report.created, type);
            created++;
          } else {
            bump(report.existing, type);
            existing++;
          }
        }
      } catch (err) {
        if (!(err instanceof FhirError)) throw err;
        report.rejected += bundle.entry.length;
        report.failures.push({ bundle: b, status: err.status, issues: err.issues.slice(0, 10) });
        if (!opts.continueOnError) {
          opts.onProgress?.({ bundlesDone: b + 1, bundles: bundles.length, created, existing });
          break;
        }
      }
    }
    opts.onProgress?.({ bundlesDone: b + 1, bundles: bundles.length, created, existing });
  }
  report.ms = Date.now() - started;
  return report;
}
