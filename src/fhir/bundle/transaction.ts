// https://hl7.org/fhir/R4/http.html#transaction — all or nothing, in one database transaction.
import { inTransaction } from '../../store/transaction';
import type { FhirContext } from '../context';
import { executeEntries, planEntries, renderResponseBundle, type EntryActor, type EntryRequestInfo, type ProcessHooks, type RawEntry } from './entry-processor';

/**
 * Validates every entry first (all problems reported together), then runs them
 * in one transaction; any failure rolls everything back. Serialization
 * failures and deadlocks re-run the whole Bundle (`inTransaction`), so a 2xx
 * always means the data is committed. Returns the `transaction-response` text.
 */
export async function processTransaction(ctx: FhirContext, entries: RawEntry[], info: EntryRequestInfo, actor: EntryActor, hooks: ProcessHooks = {}): Promise<string> {
  const planned = planEntries(ctx, entries, info.baseUrl);
  const bundleId = ctx.ids.newId();
  return inTransaction(ctx.db, async (tx) => {
    const rendered = await executeEntries(ctx, tx, planned, info, actor, hooks);
    const text = renderResponseBundle('transaction-response', bundleId, rendered);
    await hooks.beforeCommit?.(tx, text);
    return text;
  });
}
