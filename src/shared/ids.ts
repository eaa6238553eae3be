import { randomUUID } from 'node:crypto';

/** Injected so tests can produce stable ids. */
export interface IdGenerator {
  newId(): string;
}

export const uuidIds: IdGenerator = { newId: () => randomUUID() };

/**
 * FHIR id: 1-64 of [A-Za-z0-9-.], but not dots alone: `.` and `..` are path segments to every
 * URL resolver (`Observation/..` is the server's base), so such an id could never be addressed.
 */
export const FHIR_ID = /^(?!\.+$)[A-Za-z0-9\-.]{1,64}$/;
