import type { Interaction } from '../../auth/decide';
import type { Principal } from '../../auth/principal';
import { FhirError, type Issue } from '../../errors/fhir-error';
import { authorize, type AccessOptions } from '../access';
import { issuesForEntry, planEntry, type EntryAction } from './entry-request';

function interactionOf(kind: EntryAction['kind']): Interaction {
  switch (kind) {
    case 'conditional-update':
      return 'update';
    case 'conditional-delete':
      return 'delete';
    default:
      return kind;
  }
}

/**
 * Every entry is authorized as if it were a request of its own, before
 * anything is validated or written (and before an async job is queued, since
 * the job runs without the caller). All denials are reported together.
 * Entries that do not parse are left for the planner to report.
 */
export function authorizeEntries(principal: Principal, entries: unknown[], baseUrl: string, opts: AccessOptions): void {
  if (principal.role === 'patient') throw FhirError.forbidden('Access denied by rule patient-read-only: patient tokens cannot submit Bundles', { code: 'NHIS-1403' });
  const denied: Issue[] = [];
  entries.forEach((raw, index) => {
    let action: EntryAction;
    try {
      action = planEntry(raw, index, baseUrl).action;
    } catch {
      return;
    }
    try {
      authorize(principal, interactionOf(action.kind), action.type, opts);
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      const fullUrl = (raw as { fullUrl?: unknown } | null)?.fullUrl;
      denied.push(...issuesForEntry(err, index, typeof fullUrl === 'string' ? fullUrl : undefined));
    }
  });
  if (denied.length > 0) throw new FhirError(403, denied);
}
