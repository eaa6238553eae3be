import { RESOURCE_TYPES } from '../shared/resource-types';

/**
 * Resource types kept in the generic resource store (resource, history and search index tables).
 * AuditEvents are not among them: they live in the audit trail's own table (./audit/), are
 * written only by the server and read only through `GET /AuditEvent`.
 */
export const AUDIT_EVENT = 'AuditEvent';

export const STORED_TYPES: readonly string[] = RESOURCE_TYPES.filter((t) => t !== AUDIT_EVENT);

export function isStoredType(type: string): boolean {
  return type !== AUDIT_EVENT && RESOURCE_TYPES.includes(type);
}
