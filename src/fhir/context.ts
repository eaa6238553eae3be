import type { StoreContext } from '../store/store-context';

/**
 * What every FHIR interaction may use, wired once in `app.ts`: the store's context. Who is
 * asking is not in it: each request carries its principal, and its access scope is derived from
 * it (`./access.ts`), so a handler cannot read without naming whose rights apply.
 */
export type FhirContext = StoreContext;
