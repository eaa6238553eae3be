import type { Principal } from '../../auth/principal';
import { FhirError } from '../../errors/fhir-error';
import { claimPrescription, findPrescription, releaseClaim, type PrescriptionRow } from '../../repository/prescriptions';
import type { StoreContext as FhirContext } from '../../store/store-context';
import { inTransaction, type Tx } from '../../store/transaction';
import type { WrittenVersion } from '../../store/write/write-resources';
import type { Writer } from '../../store/write/writer';
import { requirePharmacy, serverKey } from './actors';
import { expiredError, PRESCRIPTION_CODES, unknownTask, wrongState } from './errors';
import { expireOne } from './expire';
import { recordPrescriptionEvent, updateTask } from './records';
import { deriveClaimSecret, hashAccessCode, isClaimSecret } from './secrets';

export interface AcceptResult {
  row: PrescriptionRow;
  secret: string;
  /** A new Task version, or undefined when the same pharmacy retried its live claim. */
  task?: WrittenVersion;
}

/**
 * `$accept`: ready → in-progress for the calling pharmacy, in one
 * compare-and-set. Exactly one of any number of concurrent claims wins; the
 * winner's retry gets the same secret back; the others get 409 while the
 * claim's lease lives. A lapsed lease counts as ready.
 */
export async function acceptPrescription(ctx: FhirContext, writer: Writer, taskId: string, accessCode: string | null): Promise<AcceptResult> {
  const pharmacy = requirePharmacy(writer.principal);
  const requestId = writer.requestId;
  if (!accessCode) throw FhirError.badRequest('The access code is required: ?ac=<access code>', { code: PRESCRIPTION_CODES.wrongAccessCode, expression: ['ac'] });
  const key = await serverKey(ctx);
  const codeHash = hashAccessCode(accessCode);
  const outcome = await inTransaction(ctx.db, async (tx): Promise<AcceptResult | { expire: true }> => {
    const now = ctx.clock.now();
    const leaseUntil = new Date(now.getTime() + ctx.config.prescriptionLeaseMinutes * 60_000);
    const row = await claimPrescription(tx, { taskId, accessCodeHash: codeHash, org: pharmacy.organization, client: pharmacy.clientId, now, leaseUntil });
    if (row) {
      if (row.previousState === 'in-progress') {
        await recordPrescriptionEvent(ctx, tx, { row, action: 'lease-expired', from: 'in-progress', to: 'ready', reason: `claim of ${row.previousOwnerOrg ?? 'a pharmacy'} lapsed` });
      }
      await recordPrescriptionEvent(ctx, tx, { row, action: 'accept', from: 'ready', to: 'in-progress', principal: pharmacy, detail: { leaseExpiresAt: leaseUntil.toISOString() } });
      const task = await updateTask(ctx, tx, writer, row);
      return { row, task, secret: deriveClaimSecret(key, taskId, row.claimCounter) };
    }
    const current = await findPrescription(tx, taskId);
    if (!current) throw unknownTask(taskId);
    // A wrong access code answers exactly as an unknown Task: $accept must not tell whether a prescription exists.
    if (current.accessCodeHash !== codeHash) throw unknownTask(taskId);
    if (current.state === 'in-progress' && current.ownerOrg === pharmacy.organization && current.leaseExpiresAt && current.leaseExpiresAt > now) {
      return { row: current, secret: deriveClaimSecret(key, taskId, current.claimCounter) };
    }
    if ((current.state === 'ready' || current.state === 'in-progress') && current.validityEnd <= now) {
      if (current.state === 'ready' || (current.leaseExpiresAt && current.leaseExpiresAt <= now)) return { expire: true };
    }
    throw wrongState(current, 'ready', now);
  });
  if ('expire' in outcome) {
    const expired = await expireOne(ctx, taskId, requestId);
    throw expiredError(expired ?? ((await findPrescription(ctx.db, taskId)) as PrescriptionRow));
  }
  return outcome;
}

/**
 * The claim a secret proves: the row, checked for state, lease, claimant and
 * secret. Used before the compare-and-set of $reject, $dispense and $close,
 * and again to explain a failed one.
 */
export async function resolveClaim(ctx: FhirContext, tx: Tx, pharmacy: Principal & { organization: string }, taskId: string, secret: string, key: string, wanted = 'in-progress'): Promise<PrescriptionRow> {
  const now = ctx.clock.now();
  const row = await findPrescription(tx, taskId);
  if (!row) throw unknownTask(taskId);
  if (row.state !== 'in-progress' || !row.leaseExpiresAt || row.leaseExpiresAt <= now) throw wrongState(row, wanted, now);
  if (row.ownerOrg !== pharmacy.organization) throw FhirError.forbidden(`Task/${taskId} is claimed by another pharmacy`, { code: PRESCRIPTION_CODES.notClaimant });
  if (!isClaimSecret(key, taskId, row.claimCounter, secret)) throw FhirError.forbidden(`Wrong secret for Task/${taskId}`, { code: PRESCRIPTION_CODES.wrongSecret, expression: ['secret'] });
  return row;
}

export function requireSecret(secret: string | null): string {
  if (!secret) throw FhirError.badRequest('The claim secret is required: ?secret=<secret from $accept>', { code: PRESCRIPTION_CODES.wrongSecret, expression: ['secret'] });
  return secret;
}

/** `$reject`: the pharmacy gives the prescription back (ready), its secret stops working. */
export async function rejectPrescription(ctx: FhirContext, writer: Writer, taskId: string, secret: string | null, reason?: string): Promise<{ row: PrescriptionRow; task: WrittenVersion }> {
  const pharmacy = requirePharmacy(writer.principal);
  const presented = requireSecret(secret);
  const key = await serverKey(ctx);
  return inTransaction(ctx.db, async (tx) => {
    const claim = await resolveClaim(ctx, tx, pharmacy, taskId, presented, key);
    if (claim.claimDispensed > 0) {
      throw FhirError.conflict(`Medication was already dispensed under this claim of ${claim.number}; finish with $close`, { code: PRESCRIPTION_CODES.wrongState });
    }
    const row = await releaseClaim(tx, { taskId, claimCounter: claim.claimCounter, now: ctx.clock.now() });
    if (!row) {
      await resolveClaim(ctx, tx, pharmacy, taskId, presented, key);
      throw FhirError.conflict(`Prescription ${claim.number} changed meanwhile; retry`, { code: PRESCRIPTION_CODES.wrongState });
    }
    await recordPrescriptionEvent(ctx, tx, { row, action: 'reject', from: 'in-progress', to: 'ready', principal: pharmacy, reason });
    return { row, task: await updateTask(ctx, tx, writer, row) };
  });
}
