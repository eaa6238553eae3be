import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The two secrets of the workflow. The access code (given to the patient,
 * e.g. as a QR payload) is 32 random bytes; only its SHA-256 is stored. The
 * claim secret of a pharmacy is derived, never stored: HMAC-SHA256(server key,
 * task id + claim counter). The same claim always yields the same secret (a
 * retrying pharmacy gets it again); every state change that ends a claim bumps
 * the counter, which invalidates the old secret.
 */
export function generateAccessCode(): string {
  return randomBytes(32).toString('hex');
}

export function hashAccessCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

export function generateServerKey(): string {
  return randomBytes(32).toString('hex');
}

export function deriveClaimSecret(serverKeyHex: string, taskId: string, claimCounter: number): string {
  return createHmac('sha256', Buffer.from(serverKeyHex, 'hex')).update(`prescription-claim\u0000${taskId}\u0000${claimCounter}`).digest('hex');
}

export function isClaimSecret(serverKeyHex: string, taskId: string, claimCounter: number, presented: string): boolean {
  const expected = Buffer.from(deriveClaimSecret(serverKeyHex, taskId, claimCounter), 'utf8');
  const given = Buffer.from(presented, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
