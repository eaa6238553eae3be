import { randomUUID } from 'node:crypto';

/** Injected so tests can produce stable ids. */
export interface IdGenerator {
  newId(): string;
}

export const uuidIds: IdGenerator = { newId: () => randomUUID() };

/** FHIR id: 1-64 of [A-Za-z0-9-.]. */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
