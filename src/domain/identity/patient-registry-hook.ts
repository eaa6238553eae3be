import { FhirError } from '../../errors/fhir-error';
import { claimNationalIds, releaseNationalIds } from '../../repository/patient-identity';
import type { Tx } from '../../store/transaction';
import type { NationalIdScheme } from '../../shared/national-id';
import { nationalIdentifiersOf } from './national-identifiers';

/**
 * Keeps "one active Patient per national identifier" in the database, in the
 * same transaction as the write, so it holds under concurrency and across processes.
 */
export function createPatientRegistryHook(schemes: readonly NationalIdScheme[]) {
  return {
    async afterStore(tx: Tx, resource: { resourceType: string; id: string; active?: unknown; identifier?: unknown }): Promise<void> {
      if (resource.resourceType !== 'Patient') return;
      if (resource.active === false) {
        await releaseNationalIds(tx, resource.id);
        return;
      }
      const ids = nationalIdentifiersOf(resource, schemes).map(({ scheme, value }) => ({ system: scheme.system, value }));
      const unique = [...new Map(ids.map((i) => [`${i.system}|${i.value}`, i])).values()];
      const clashes = await claimNationalIds(tx, resource.id, unique);
      if (clashes.length > 0) {
        const c = clashes[0];
        throw FhirError.conflict(`National identifier ${c.system}|${c.value} already belongs to Patient/${c.holder}`, {
          code: 'NHIS-3002',
          expression: ['Patient.identifier'],
        });
      }
    },
    async afterDelete(tx: Tx, resourceType: string, id: string): Promise<void> {
      if (resourceType === 'Patient') await releaseNationalIds(tx, id);
    },
  };
}
