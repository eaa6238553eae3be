import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * The server's private signing keys at rest: AES-256-GCM under the key-encryption key from the
 * environment (KEY_ENCRYPTION_KEY), bound to the key's `kid` (a sealed key copied onto another
 * row does not open). A database dump or backup then holds no usable private key. Stored as
 * `sealed:v1:<iv>.<ciphertext+tag>` (base64url); unsealed rows are the JWK's JSON text.
 */
const PREFIX = 'sealed:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function isSealed(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

function aad(kid: string): Buffer {
  return Buffer.from(`opennhis-signing-key:${kid}`, 'utf8');
}

export function sealPrivateJwk(jwk: JWK, kid: string, keyEncryptionKey: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyEncryptionKey, iv);
  cipher.setAAD(aad(kid));
  const data = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${PREFIX}${iv.toString('base64url')}.${data.toString('base64url')}`;
}

/**
 * The private JWK of a stored row, or undefined when it is sealed and cannot be opened here
 * (no key-encryption key, or another one: after the operator changed it, such keys only verify,
 * and a new key is made to sign).
 */
export function openPrivateJwk(stored: string, kid: string, keyEncryptionKey: Buffer | undefined): JWK | undefined {
  if (!isSealed(stored)) return JSON.parse(stored) as JWK;
  if (!keyEncryptionKey) return undefined;
  const [ivText, dataText] = stored.slice(PREFIX.length).split('.');
  const iv = Buffer.from(ivText ?? '', 'base64url');
  const data = Buffer.from(dataText ?? '', 'base64url');
  if (iv.length !== IV_BYTES || data.length <= TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyEncryptionKey, iv);
    decipher.setAAD(aad(kid));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const text = Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as JWK;
  } catch {
    return undefined;
  }
}
