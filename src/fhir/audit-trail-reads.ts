import { drainAuditTrail } from '../domain/audit/record-audit';
import type { FhirRequest } from './request';
import type { Handler } from './routes';
const AUDIT = 'AuditEvent';

/**
 * Reads and searches that may return AuditEvents first promote every event already committed
 * to the audit outbox (see domain/audit/audit-promoter.ts): "who looked at my record" must show
 * the read that answered a moment ago.
 */
export function mayReturnAuditEvents(req: FhirRequest, level: 'system' | 'type' | 'instance', interaction: string): boolean {
  if (req.params.compartmentType !== undefined) return req.params.compartmentType === AUDIT;
  if (req.params.type !== undefined) return req.params.type === AUDIT;
  if (interaction === 'history-system') return true;
  if (interaction === 'search-system') {
    const types = req.query.getAll('_type').flatMap((t) => t.split(','));
    return types.length === 0 || types.includes(AUDIT);
  }
  if (level === 'system' && interaction === 'transaction') {
    const entries = (req.body as { entry?: { request?: { method?: unknown } }[] } | undefined)?.entry;
    return Array.isArray(entries) && entries.some((e) => e?.request?.method === 'GET');
  }
  return false;
}

export function withCurrentAuditTrail(run: Handler, level: 'system' | 'type' | 'instance', interaction: string): Handler {
  return async (ctx, req) => {
    if (mayReturnAuditEvents(req, level, interaction)) await drainAuditTrail(ctx);
    return run(ctx, req);
  };
}
