import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Issue } from '../../errors/fhir-error';
import { nationalProfilesDir } from '../../validation/conformance-resources';
import { PRESCRIPTION_CODES } from './errors';

/**
 * Prescribing-time safety warnings: a same-ATC duplicate or an interacting
 * pair (from `fhir-profiles/prescription-interactions.json`, a ConceptMap of
 * ATC codes or group prefixes) among the patient's open prescriptions
 * nationwide. Warnings only — the prescriber decides.
 */
export const ATC_SYSTEM = 'http://www.whocc.no/atc';

export interface InteractionRule {
  a: string;
  b: string;
  text: string;
}

export interface PrescribedDrug {
  number: string;
  atcCode: string | null;
  /** Just prescribed in this request (pairs of two old prescriptions are not reported again). */
  isNew: boolean;
}

let rules: InteractionRule[] | undefined;

interface ConceptMapShape {
  group?: { element?: { code: string; target?: { code: string; comment?: string }[] }[] }[];
}

export function loadInteractionRules(): InteractionRule[] {
  if (rules) return rules;
  const map = JSON.parse(readFileSync(join(nationalProfilesDir(), 'prescription-interactions.json'), 'utf8')) as ConceptMapShape;
  rules = (map.group ?? []).flatMap((g) => (g.element ?? []).flatMap((e) => (e.target ?? []).map((t) => ({ a: e.code, b: t.code, text: t.comment ?? '' }))));
  return rules;
}

export function atcCodeOf(medicationRequest: Record<string, unknown>): string | undefined {
  const concept = medicationRequest.medicationCodeableConcept as { coding?: { system?: string; code?: string }[] } | undefined;
  return concept?.coding?.find((c) => c.system === ATC_SYSTEM && typeof c.code === 'string')?.code;
}

function interactionBetween(x: string, y: string, list: InteractionRule[]): InteractionRule | undefined {
  return list.find((r) => (x.startsWith(r.a) && y.startsWith(r.b)) || (x.startsWith(r.b) && y.startsWith(r.a)));
}

export function safetyWarnings(drugs: PrescribedDrug[], list: InteractionRule[] = loadInteractionRules()): Issue[] {
  const issues: Issue[] = [];
  for (let i = 0; i < drugs.length; i++) {
    for (let j = i + 1; j < drugs.length; j++) {
      const [p, q] = [drugs[i], drugs[j]];
      if (!(p.isNew || q.isNew) || !p.atcCode || !q.atcCode) continue;
      if (p.atcCode === q.atcCode) {
        issues.push({
          severity: 'warning',
          code: 'business-rule',
          diagnostics: `Duplicate therapy: ${p.number} and ${q.number} both prescribe ATC ${p.atcCode}`,
          expression: ['MedicationRequest.medicationCodeableConcept'],
          nhisCode: PRESCRIPTION_CODES.duplicateTherapy,
        });
        continue;
      }
      const rule = interactionBetween(p.atcCode, q.atcCode, list);
      if (rule) {
        issues.push({
          severity: 'warning',
          code: 'business-rule',
          diagnostics: `Interaction between ${p.number} (ATC ${p.atcCode}) and ${q.number} (ATC ${q.atcCode}): ${rule.text}`,
          expression: ['MedicationRequest.medicationCodeableConcept'],
          nhisCode: PRESCRIPTION_CODES.interaction,
        });
      }
    }
  }
  return issues;
}
