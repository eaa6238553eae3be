import type { Principal } from '../../auth/principal';
import { FhirError } from '../../errors/fhir-error';
import type { StoreContext as FhirContext } from '../../store/store-context';
import { loadOrCreateServerKey } from '../../repository/prescriptions';
import { PRESCRIPTION_CODES } from './errors';
import { generateServerKey } from './secrets';

/** Who may act: nothing is derived from headers; without a verified principal the answer is 401. */
export function requirePrincipal(principal: Principal | undefined): Principal {
  if (!principal) {
    throw FhirError.unauthorized('This operation needs an authenticated client (Bearer access token)', {
      code: PRESCRIPTION_CODES.actorRequired,
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
  }
  return principal;
}

/** A pharmacy client with its national facility code. */
export function requirePharmacy(principal: Principal | undefined): Principal & { organization: string } {
  const p = requirePrincipal(principal);
  if (p.role !== 'pharmacy' || !p.organization) {
    throw FhirError.forbidden(`Only a pharmacy with a facility code may claim and dispense prescriptions (role ${p.role})`, { code: PRESCRIPTION_CODES.actorNotAllowed });
  }
  return p as Principal & { organization: string };
}

const serverKeys = new WeakMap<object, Promise<string>>();

/** The HMAC key of claim secrets: PRESCRIPTION_SECRET_KEY, else one random key kept in the database for every process. */
export function serverKey(ctx: FhirContext): Promise<string> {
  if (ctx.config.prescriptionSecretKey) return Promise.resolve(ctx.config.prescriptionSecretKey.toLowerCase());
  let key = serverKeys.get(ctx.db);
  if (!key) {
    key = loadOrCreateServerKey(ctx.db, generateServerKey());
    key.catch(() => serverKeys.delete(ctx.db));
    serverKeys.set(ctx.db, key);
  }
  return key;
}
