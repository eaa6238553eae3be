/**
 * Stored answers of requests sent with an `Idempotency-Key` (they hold the data of the answer, so
 * they live with the store; the key's namespace includes the client, see fhir/bundle/idempotency-key.ts).
 */
export { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey, renewIdempotencyKey, type IdempotencyRow } from '../repository/idempotency';
export type { Db } from '../repository/db';
