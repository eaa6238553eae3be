import type { FhirContext } from '../fhir/context';

/**
 * The audit trail of refused authentications. The first few failures of a caller (client
 * address and the client id its token claimed) within `windowMs` are recorded one by one, at
 * once, before the 401 goes out, like any refusal (an expired token or a clock skew is a
 * common, single mistake). Further failures of the same caller in that window are counted in
 * memory and recorded as ONE AuditEvent when the window ends (or the server stops): its
 * `period` spans them, its outcome description gives their number and reasons. A flood of bad
 * tokens then costs a few durable rows a minute per caller instead of one per request.
 * Cost: a crash loses the count of the current window (never the individually recorded ones).
 */
export interface AuthFailureTrail {
  /** A refused request: the first of its caller's window is recorded before this resolves. */
  record(failure: AuthFailure): Promise<void>;
  /** Records every pending aggregate now (shutdown). */
  flush(): Promise<void>;
}

export interface AuthFailure {
  clientIp?: string;
  claimedClientId?: string;
  /** Why it was refused (the 401 reason, or the address limit); never a token. */
  reason: string;
  requestId: string;
  when: Date;
  /** An aggregate: when the first of the refusals it counts happened. */
  since?: Date;
}

interface Aggregate {
  /** Refusals recorded one by one in this window. */
  individual: number;
  clientIp?: string;
  claimedClientId?: string;
  count: number;
  first?: Date;
  last?: Date;
  lastRequestId?: string;
  reasons: Map<string, number>;
  timer: NodeJS.Timeout;
}

/** Refusals of one caller per window recorded individually before the rest are aggregated. */
export const INDIVIDUAL_REFUSALS = 5;
/** Callers tracked at once; beyond it every aggregate is recorded early (memory stays bounded). */
const MAX_CALLERS = 10_000;

export function createAuthFailureTrail(
  ctx: Pick<FhirContext, 'logger'>,
  store: (refusal: AuthFailure) => Promise<void>,
  opts: { windowMs?: number } = {},
): AuthFailureTrail {
  const windowMs = opts.windowMs ?? 60_000;
  const callers = new Map<string, Aggregate>();

  async function close(key: string): Promise<void> {
    const agg = callers.get(key);
    if (!agg) return;
    callers.delete(key);
    clearTimeout(agg.timer);
    if (agg.count === 0) return;
    const reasons = [...agg.reasons].map(([r, n]) => `${n}× ${r}`).join('; ');
    const refusal: AuthFailure = {
      claimedClientId: agg.claimedClientId,
      reason: `${agg.count} further refused authentications from this caller: ${reasons}`.slice(0, 500),
      requestId: agg.lastRequestId!,
      clientIp: agg.clientIp,
      when: agg.last!,
      since: agg.first!,
    };
    try {
      await store(refusal);
    } catch (err) {
      ctx.logger.error({ err: { message: (err as Error).message }, count: agg.count }, 'could not record aggregated refused authentications');
    }
  }

  return {
    async record(f) {
      const key = `${f.clientIp ?? ''}\u0000${f.claimedClientId ?? ''}`;
      let agg = callers.get(key);
      if (agg && agg.individual >= INDIVIDUAL_REFUSALS) {
        agg.count++;
        agg.first ??= f.when;
        agg.last = f.when;
        agg.lastRequestId = f.requestId;
        const reason = f.reason.slice(0, 120);
        if (agg.reasons.size < 10 || agg.reasons.has(reason)) agg.reasons.set(reason, (agg.reasons.get(reason) ?? 0) + 1);
        return;
      }
      if (!agg) {
        if (callers.size >= MAX_CALLERS) await Promise.all([...callers.keys()].map(close));
        const timer = setTimeout(() => void close(key), windowMs);
        timer.unref();
        agg = { individual: 0, clientIp: f.clientIp, claimedClientId: f.claimedClientId, count: 0, reasons: new Map(), timer };
        callers.set(key, agg);
      }
      agg.individual++;
      await store({ ...f, reason: f.reason.slice(0, 300) });
    },
    async flush() {
      await Promise.all([...callers.keys()].map(close));
    },
  };
}
