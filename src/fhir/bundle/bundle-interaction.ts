// https://hl7.org/fhir/R4/http.html#transaction — POST [base] with a transaction or batch Bundle.
import { FhirError } from '../../errors/fhir-error';
import { informationOutcome } from '../../errors/operation-outcome';
import { enqueueJob } from '../../store/jobs';
import { inTransaction, type Tx } from '../../store/transaction';
import { stringifyJson } from '../../shared/json';
import type { AccessScope } from '../../store/access/access-scope';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { preferReturn } from '../respond';
import { processBatch } from './batch';
import type { EntryActor, EntryRequestInfo, RawEntry } from './entry-processor';
import type { IdempotencyClaim, IdempotentHandler } from './idempotency-key';
import { processTransaction } from './transaction';
import { authorizeEntries } from './authorize-entries';
import { accessOptionsOf, scopeOf, writerOf } from '../access';

export type BundleKind = 'transaction' | 'batch';

/**
 * What an async job needs to run the Bundle later, exactly as it would have run now: the entries
 * and who sent them (`info.principal`), so the job reads within that client's scope and its
 * writes are audited under that client.
 */
export interface BundleJobRequest {
  kind: BundleKind;
  /** The submitted Bundle's entries, serialised losslessly. */
  entries: string;
  info: EntryRequestInfo;
}

/** The entries act as the request's client: its scope for reads and matches, itself as writer. */
export function actorOfRequest(scope: AccessScope, info: EntryRequestInfo, rule?: string): EntryActor {
  return { scope, writer: { principal: info.principal, requestId: info.requestId, clientIp: info.clientIp, origin: 'client', rule, scope } };
}

/** The body must be a Bundle of type transaction or batch. */
export function requireBundle(body: unknown): { kind: BundleKind; entries: unknown[] } {
  const bundle = body as { resourceType?: unknown; type?: unknown; entry?: unknown } | undefined;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle') {
    throw FhirError.badRequest('POST to the base URL takes a Bundle of type transaction or batch', { code: 'NHIS-1610', expression: ['Bundle'] });
  }
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
    throw FhirError.badRequest(`Bundle.type must be transaction or batch, not ${JSON.stringify(bundle.type ?? null)}`, {
      code: 'NHIS-1611',
      expression: ['Bundle.type'],
    });
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) {
    throw FhirError.badRequest('Bundle.entry must be an array', { code: 'NHIS-1612', expression: ['Bundle.entry'] });
  }
  return { kind: bundle.type, entries: (bundle.entry as unknown[] | undefined) ?? [] };
}

export function isRespondAsync(headers: Record<string, string | undefined>): boolean {
  return /(^|[;,\s])respond-async\b/i.test(headers['prefer'] ?? '');
}

/** Runs a transaction or batch; `beforeCommit` settles an idempotency claim in the same commit. */
export async function runBundle(
  ctx: FhirContext,
  kind: BundleKind,
  entries: RawEntry[],
  info: EntryRequestInfo,
  actor: EntryActor,
  hooks: { beforeCommit?: (tx: Tx, text: string) => Promise<void>; onProgress?: (done: number, total: number) => void } = {},
): Promise<string> {
  return kind === 'transaction' ? processTransaction(ctx, entries, info, actor, hooks) : processBatch(ctx, entries, info, actor, hooks);
}

function bundleResponse(text: string): FhirResponse {
  return { status: 200, rawBody: text };
}

async function settle(claim: IdempotencyClaim | undefined, tx: Tx, response: FhirResponse): Promise<void> {
  if (claim && !(await claim.complete(tx, response))) {
    throw FhirError.conflict('The Idempotency-Key claim of this request was taken over; retry', { code: 'NHIS-1623' });
  }
}

export const bundleInteraction: IdempotentHandler = async (ctx: FhirContext, req: FhirRequest, claim?: IdempotencyClaim) => {
  const { kind, entries } = requireBundle(req.body);
  if (req.principal) authorizeEntries(req.principal, entries, req.baseUrl, accessOptionsOf(ctx.config));
  const info: EntryRequestInfo = { baseUrl: req.baseUrl, requestId: req.requestId, prefer: preferReturn(req.headers), principal: req.principal, clientIp: req.clientIp };
  const actor = actorOfRequest(scopeOf(ctx, req), info, writerOf(req).rule);
  if (isRespondAsync(req.headers)) return enqueueBundle(ctx, { kind, entries: stringifyJson(entries), info }, entries.length, claim);
  if (entries.length > ctx.config.bundleMaxEntries) {
    throw FhirError.tooLarge(
      `The Bundle has ${entries.length} entries; at most ${ctx.config.bundleMaxEntries} are processed synchronously. ` +
        'Send it again with the header "Prefer: respond-async" to have it processed in the background (https://hl7.org/fhir/R4/async.html).',
      { code: 'NHIS-1613', expression: ['Bundle.entry'] },
    );
  }
  const raw = entries.map((e, index) => ({ raw: e, index }));
  if (kind === 'transaction') {
    // Data and stored Idempotency-Key answer commit together: a crash cannot leave one without the other.
    const text = await processTransaction(ctx, raw, info, actor, {
      beforeCommit: async (tx, t) => {
        await settle(claim, tx, bundleResponse(t));
      },
    });
    return bundleResponse(text);
  }
  return bundleResponse(await processBatch(ctx, raw, info, actor));
};

/** https://hl7.org/fhir/R4/async.html — 202 with the status URL in Content-Location. */
async function enqueueBundle(ctx: FhirContext, job: BundleJobRequest, entryCount: number, claim?: IdempotencyClaim): Promise<FhirResponse> {
  const id = ctx.ids.newId();
  const response: FhirResponse = {
    status: 202,
    headers: { 'Content-Location': `${job.info.baseUrl}/_async/${id}` },
    body: informationOutcome(`Accepted ${job.kind} Bundle with ${entryCount} entries as job ${id}`),
  };
  await inTransaction(ctx.db, async (tx) => {
    await enqueueJob(tx, { id, request: JSON.stringify(job), entryCount, now: ctx.clock.now() });
    await settle(claim, tx, response);
  });
  return response;
}
