// https://hl7.org/fhir/R4/http.html#transaction (batch) — every entry on its own.
import { STATUS_CODES } from 'node:http';
import { FhirError } from '../../errors/fhir-error';
import { internalErrorOutcome, outcomeFromError } from '../../errors/operation-outcome';
import { mapDriverError } from '../../store/errors';
import { inTransaction } from '../../store/transaction';
import { stringifyJson } from '../../shared/json';
import type { FhirContext } from '../context';
import { executeEntries, planEntries, renderResponseBundle, type EntryActor, type EntryRequestInfo, type ProcessHooks, type RawEntry, type RenderedEntry } from './entry-processor';

/**
 * Each entry is validated and executed in its own transaction, with the same
 * rules as a one-entry transaction (so a `urn:uuid:` reference to another entry
 * fails: batch entries must not depend on each other). A failing entry gets its
 * status and OperationOutcome in `response`; the others are kept.
 */
export async function processBatch(ctx: FhirContext, entries: RawEntry[], info: EntryRequestInfo, actor: EntryActor, hooks: ProcessHooks = {}): Promise<string> {
  const rendered: RenderedEntry[] = [];
  let done = 0;
  for (const entry of entries) {
    try {
      const planned = planEntries(ctx, [entry], info.baseUrl);
      const [one] = await inTransaction(ctx.db, (tx) => executeEntries(ctx, tx, planned, info, actor));
      rendered.push(one);
    } catch (err) {
      rendered.push(failedEntry(ctx, info, err));
    }
    hooks.onProgress?.(++done, entries.length);
  }
  return renderResponseBundle('batch-response', ctx.ids.newId(), rendered);
}

/** The error converter's batch form: `response.status` plus `response.outcome`. */
export function failedEntry(ctx: FhirContext, info: EntryRequestInfo, err: unknown): RenderedEntry {
  const mapped = mapDriverError(err);
  if (mapped instanceof FhirError) {
    return stringifyJson({ response: { status: `${mapped.status} ${STATUS_CODES[mapped.status] ?? ''}`.trim(), outcome: outcomeFromError(mapped) } });
  }
  ctx.logger.error({ reqId: info.requestId, err: { message: (err as Error)?.message, code: (err as { code?: string })?.code } }, 'batch entry failed');
  return stringifyJson({ response: { status: '500 Internal Server Error', outcome: internalErrorOutcome(info.requestId) } });
}
