import type { Identifier, Patient, PatientLink } from '@medplum/fhirtypes';

/**
 * The two new versions a merge writes
 * (https://build.fhir.org/patient-operation-merge.html, adapted to R4):
 * the source becomes inactive with `link` replaced-by → target and keeps
 * everything else (so its history and identifiers stay readable); the target
 * gets `link` replaces → source, `active: true`, and a copy of every source
 * identifier it does not already carry, marked `use: old`. Nothing is deleted.
 */
export interface MergedPatients {
  source: Patient & { id: string };
  target: Patient & { id: string };
}

function withoutMeta<T extends { meta?: unknown }>(r: T): T {
  const { meta: _meta, ...rest } = r;
  return rest as T;
}

export function mergePatientRecords(source: Patient & { id: string }, target: Patient & { id: string }): MergedPatients {
  const sourceLink: PatientLink = { other: { reference: `Patient/${target.id}` }, type: 'replaced-by' };
  const targetLink: PatientLink = { other: { reference: `Patient/${source.id}` }, type: 'replaces' };
  const held = new Set((target.identifier ?? []).map((i) => `${i.system ?? ''}|${i.value ?? ''}`));
  const copied: Identifier[] = (source.identifier ?? [])
    .filter((i) => i.value && !held.has(`${i.system ?? ''}|${i.value}`))
    .map((i) => ({ ...i, use: 'old' as const }));
  return {
    source: { ...withoutMeta(source), active: false, link: [...(source.link ?? []), sourceLink] },
    target: {
      ...withoutMeta(target),
      active: true,
      identifier: [...(target.identifier ?? []), ...copied],
      link: [...(target.link ?? []), targetLink],
    },
  };
}

/** The patient a merged-away record points to, if any (`link` replaced-by). */
export function replacedBy(p: Patient): string | undefined {
  const link = (p.link ?? []).find((l) => l.type === 'replaced-by');
  const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(link?.other?.reference ?? '');
  return m?.[1];
}
