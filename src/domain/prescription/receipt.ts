import { SignJWT } from 'jose';
import { createSigningKeyStore, type SigningKeyStore } from '../../auth/signing-keys';
import type { StoreContext as FhirContext } from '../../store/store-context';

/**
 * The dispense receipt: a JWT signed with the server's signing key (the keys
 * published at `/.well-known/jwks.json`), over the dispense summary and the
 * SHA-256 of the MedicationRequest version it consumed.
 */
export interface ReceiptClaims {
  prescriptionNumber: string;
  task: string;
  medicationRequest: { reference: string; sha256: string };
  dispenses: { reference: string; quantity: number; whenHandedOver?: string }[];
  pharmacy: string;
  quantityDispensed: number;
  quantityPrescribed: number;
  fillsUsed: number;
  fillsAllowed: number;
  state: string;
}

const stores = new WeakMap<object, SigningKeyStore>();

function signingKeys(ctx: FhirContext): SigningKeyStore {
  let store = stores.get(ctx.db);
  if (!store) {
    store = createSigningKeyStore({
      db: ctx.db,
      clock: ctx.clock,
      alg: ctx.config.tokenSigningAlg,
      rotationSeconds: ctx.config.signingKeyRotationSeconds,
      keyEncryptionKey: ctx.config.keyEncryptionKey,
    });
    stores.set(ctx.db, store);
  }
  return store;
}

export const RECEIPT_TYPE = 'prescription-receipt+jwt';

/** Signs after the commit (never inside the write transaction: the key store reads the database itself). */
export async function signReceipt(ctx: FhirContext, issuer: string, claims: ReceiptClaims): Promise<string> {
  const key = await signingKeys(ctx).current();
  const now = Math.floor(ctx.clock.now().getTime() / 1000);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: RECEIPT_TYPE })
    .setIssuer(issuer)
    .setSubject(claims.task)
    .setIssuedAt(now)
    .setJti(ctx.ids.newId())
    .sign(key.key);
}
