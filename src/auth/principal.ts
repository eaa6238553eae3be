import type { Role } from './roles';

/** Who is calling, established by `authenticate`; the only input of access decisions. */
export interface Principal {
  /** `client`: a registered system (SMART Backend Services); `patient`: a citizen's IdP token. */
  kind: 'client' | 'patient';
  /** Registered client id; for a patient token, the IdP's `azp`/`client_id` or its issuer. */
  clientId: string;
  role: Role;
  /** National facility code of the client's organization. */
  organization?: string;
  /** Granted scopes, normalised SMART v2 strings. */
  scopes: string[];
  /** Patient tokens: the national id claim. Never log it. */
  nationalId?: string;
  /** Patient tokens: the Patient resource id the national id resolved to, if any. */
  patientId?: string;
  /** IdP subject (patient tokens) or client id. */
  subject: string;
  /** `jti` of the access token, for audit correlation. */
  tokenId?: string;
  expiresAt: Date;
}
