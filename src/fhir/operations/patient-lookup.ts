import type { Patient } from '@medplum/fhirtypes';
import { readCurrentResources } from '../../repository/identity-resources';
import type { Db } from '../../repository/db';
import type { Tx } from '../../repository/transaction';
import { parseJson } from '../../shared/json';
import type { FhirContext } from '../context';

/**
 * Active (not merged-away, not deactivated) Patients matching search criteria.
 * After a merge the source keeps its identifiers but is inactive, so identifier
 * lookups in the operations skip it and land on the target.
 */
export async function findActivePatients(
  ctx: Pick<FhirContext, 'search'>,
  executor: Db | Tx,
  criteria: URLSearchParams,
  limit = 10,
): Promise<(Patient & { id: string })[]> {
  const ids = await ctx.search.findIds(executor, 'Patient', criteria, limit);
  const rows = await readCurrentResources(executor, ids.map((id) => ({ resourceType: 'Patient', id })));
  return ids
    .map((id) => rows.get(`Patient/${id}`))
    .filter((r) => r !== undefined && !r.deleted)
    .map((r) => parseJson(r!.content) as Patient & { id: string })
    .filter((p) => p.active !== false);
}
