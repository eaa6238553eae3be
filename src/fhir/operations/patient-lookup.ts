import type { Patient } from '@medplum/fhirtypes';
import { parseJson } from '../../shared/json';
import type { AccessScope } from '../../store/access/access-scope';
import { readResources } from '../../store/read';
import { matchResourceIds } from '../../store/search/search-resources';
import type { Tx } from '../../store/transaction';
import type { FhirContext } from '../context';

/**
 * Active (not merged-away, not deactivated) Patients matching search criteria, among those the
 * caller may see. After a merge the source keeps its identifiers but is inactive, so identifier
 * lookups in the operations skip it and land on the target.
 */
export async function findActivePatients(executor: FhirContext['db'] | Tx, scope: AccessScope, criteria: URLSearchParams, limit = 10): Promise<(Patient & { id: string })[]> {
  const ids = await matchResourceIds(executor, scope, 'Patient', criteria, limit);
  const rows = await readResources(executor, scope, 'Patient', ids);
  return ids
    .map((id) => rows.get(id))
    .filter((r) => r !== undefined && !r.deleted && r.content !== null)
    .map((r) => parseJson(r!.content!) as Patient & { id: string })
    .filter((p) => p.active !== false);
}
