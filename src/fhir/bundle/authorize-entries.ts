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
  // The decision depends on the interaction and the type only: taken once per pair, not per entry.
  const decisions = new Map<string, FhirError | null>();
  entries.forEach((raw, index) => {
    let action: EntryAction;
    try {
      action = planEntry(raw, index, baseUrl).action;
    } catch {
      return;
    }
    const interaction = interactionOf(action.kind);
    const key = `${interaction} ${action.type}`;
    let denial = decisions.get(key);
    if (denial === undefined) {
      try {
        authorize(principal, interaction, action.type, opts);
        denial = null;
      } catch (err) {
        if (!(err instanceof FhirError)) throw err;
        denial = err;
      }
      decisions.set(key, denial);
    }
    if (denial) {
      const fullUrl = (raw as { fullUrl?: unknown } | null)?.fullUrl;
      denied.push(...issuesForEntry(denial, index, typeof fullUrl === 'string' ? fullUrl : undefined));
    }
  });
  if (denied.length > 0) throw new FhirError(403, denied);
}
