/**
 * Benchmark helpers shared by core.ts and search.ts: a closed-loop HTTP load
 * generator with sub-millisecond latency percentiles (autocannon rounds to
 * whole milliseconds, which makes a fast baseline's p50 read 0), and the
 * side-by-side protocol for a noisy machine: the subject and its baseline run
 * in alternating rounds, and each ratio is the median of the per-round ratios.
 */
import http from 'node:http';

export interface LoadFigures {
  requests: number;
  reqPerSec: number;
  meanMs: number;
  p50ms: number;
  p99ms: number;
  /** Transport errors plus responses with an unexpected status. */
  errors: number;
  /** The first unexpected status and body, to tell what went wrong. */
  firstError?: string;
}

export interface RequestSpec {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Status counted as success (default: any 2xx). */
  expect?: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export function send(base: string, spec: RequestSpec): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...spec.headers };
    if (spec.body !== undefined) headers['content-length'] = Buffer.byteLength(spec.body);
    const req = http.request(base + spec.path, { method: spec.method ?? 'GET', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(spec.body);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return +sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(3);
}

/** `connections` workers, each sending its next request when its last one answered, for `seconds` or `maxRequests`. */
export async function closedLoop(base: string, next: (i: number) => RequestSpec, connections: number, seconds: number, maxRequests = 1e6): Promise<LoadFigures> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let issued = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (process.hrtime.bigint() < deadline && issued < maxRequests) {
        const spec = next(issued++);
        const t0 = process.hrtime.bigint();
        try {
          const res = await send(base, spec);
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          const ok = spec.expect !== undefined ? res.status === spec.expect : res.status >= 200 && res.status < 300;
          if (!ok) {
            errors++;
            firstError ??= `${res.status} ${res.body.slice(0, 300)}`;
          }
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  const out: LoadFigures = latencyFigures(latencies, Number(process.hrtime.bigint() - started) / 1e9, errors);
  if (firstError) out.firstError = firstError;
  return out;
}

/** Request count, rate, mean and percentiles of one load run (`latencies` in ms, sorted in place). */
export function latencyFigures(latencies: number[], seconds: number, errors: number): LoadFigures {
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    reqPerSec: Math.round(latencies.length / seconds),
    meanMs: latencies.length ? +(latencies.reduce((a, b) => a + b, 0) / latencies.length).toFixed(3) : 0,
    p50ms: percentile(latencies, 50),
    p99ms: percentile(latencies, 99),
    errors,
  };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const r2 = (n: number) => Math.round(n * 100) / 100;

/** The median of each figure over rounds (requests and errors: summed). */
export function summarise(rounds: LoadFigures[]): LoadFigures & { rounds: number } {
  const out: LoadFigures & { rounds: number } = {
    rounds: rounds.length,
    requests: rounds.reduce((n, r) => n + r.requests, 0),
    reqPerSec: Math.round(median(rounds.map((r) => r.reqPerSec))),
    meanMs: +median(rounds.map((r) => r.meanMs)).toFixed(3),
    p50ms: +median(rounds.map((r) => r.p50ms)).toFixed(3),
    p99ms: +median(rounds.map((r) => r.p99ms)).toFixed(3),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
  };
  const firstError = rounds.find((r) => r.firstError)?.firstError;
  if (firstError) out.firstError = firstError;
  return out;
}

/**
 * Subject over baseline, as the median of per-round ratios: reqPerSec < 1 and
 * latency ratios > 1 mean the subject is slower. Also the spread (min..max) of
 * the throughput ratio over rounds, to show how noisy the machine was.
 */
export function ratios(subject: LoadFigures[], baseline: LoadFigures[]) {
  const per = (f: (x: LoadFigures) => number) => subject.map((s, i) => (f(baseline[i]) > 0 ? f(s) / f(baseline[i]) : NaN)).filter((x) => Number.isFinite(x));
  const rps = per((x) => x.reqPerSec);
  return {
    reqPerSec: r2(median(rps)),
    reqPerSecRange: [r2(Math.min(...rps)), r2(Math.max(...rps))],
    meanLatency: r2(median(per((x) => x.meanMs))),
    p50: r2(median(per((x) => x.p50ms))),
    p99: r2(median(per((x) => x.p99ms))),
  };
}

/** Runs subject then baseline, `rounds` times, alternating (baseline first on odd rounds, so neither always runs second). */
export async function sideBySide(rounds: number, subject: () => Promise<LoadFigures>, baseline: () => Promise<LoadFigures>): Promise<{ subject: LoadFigures[]; baseline: LoadFigures[] }> {
  const s: LoadFigures[] = [];
  const b: LoadFigures[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      s.push(await subject());
      b.push(await baseline());
    } else {
      b.push(await baseline());
      s.push(await subject());
    }
  }
  return { subject: s, baseline: b };
}

/** As `sideBySide` for several runners: one run of each per round, the order rotating from round to round. */
export async function roundRobin(rounds: number, runners: (() => Promise<LoadFigures>)[]): Promise<LoadFigures[][]> {
  const out: LoadFigures[][] = runners.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runners.length; k++) {
      const i = (r + k) % runners.length;
      out[i].push(await runners[i]());
    }
  }
  return out;
}

export function closeAgent(): void {
  agent.destroy();
}
