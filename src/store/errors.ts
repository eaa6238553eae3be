import { isDatabaseUnavailable, mapDriverError, sqlState } from '../repository/driver-errors';

/**
 * Database errors as the layers above the store see them: a driver error becomes the FHIR error it
 * means (conflict, unavailable), and a caller can tell one SQLSTATE it must react to.
 */
export { isDatabaseUnavailable, mapDriverError };

export function isSqlState(err: unknown, state: string): boolean {
  return sqlState(err) === state;
}
