/**
 * Micro-benchmark of the resource validator, side by side with a baseline in
 * the same run: JSON.parse of the same resource's text (what every request
 * pays anyway). Rounds alternate baseline and validator so machine noise hits
 * both; the median round of each is reported, with validator/parse ratios.
 * The validator also runs without the rule families of issue 13 (extensions,
 * attachments, narrative links, Bundle rules, vital signs, conformance;
 * `extendedRules: false`) in the same rounds: `validateBaselineRulesMicros`
 * is "before", `validateMicros` "after", `extendedRulesCostMicros` the difference.
 *
 * Build with `npm run build`, run with
 *   node dist/scripts/bench/validation.js [iterations per round, default 20000] [--rounds 5]
 * Prints JSON: microseconds per resource (validate, JSON.parse, JSON.parse+validate)
 * and ratios against JSON.parse. Issues of severity warning/information (e.g.
 * "profile not known to this server") do not make a resource invalid, as on the server.
 */
import { validateResource, warmValidation } from '../../src/validation';

/** The validator without the issue-13 rule families: the "before" of the same run. */
const BASELINE_RULES = { extendedRules: false } as const;

const observation = {
  resourceType: 'Observation',
  id: 'heart-rate',
  meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] },
  status: 'final',
  category: [
    {
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' },
      ],
    },
  ],
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }], text: 'Heart rate' },
  subject: { reference: 'Patient/example' },
  effectiveDateTime: '1999-07-02',
  valueQuantity: { value: 44, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
};

/** The same Observation as sent with a narrative (a fragment link) and a core extension, so the new rules have work to do. */
const narratedObservation = {
  ...observation,
  id: 'heart-rate-narrated',
  text: {
    status: 'generated',
    div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Heart rate <span id="hr">44 beats/minute</span> (<a href="#hr">value</a>)</p></div>',
  },
  extension: [
    {
      url: 'http://hl7.org/fhir/StructureDefinition/observation-bodyPosition',
      valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '33586001', display: 'Sitting position' }] },
    },
  ],
};

const patient = {
  resourceType: 'Patient',
  id: 'example',
  identifier: [{ use: 'usual', system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' }],
  active: true,
  name: [
    { use: 'official', family: 'Chalmers', given: ['Peter', 'James'] },
    { use: 'usual', given: ['Jim'] },
  ],
  telecom: [{ system: 'phone', value: '(03) 5555 6473', use: 'work', rank: 1 }],
  gender: 'male',
  birthDate: '1974-12-25',
  address: [{ use: 'home', line: ['534 Erewhon St'], city: 'PleasantVille', postalCode: '3999' }],
  managingOrganization: { reference: 'Organization/1' },
};

type Issue = { severity: string; diagnostics?: string };
const isError = (i: Issue) => i.severity === 'error' || i.severity === 'fatal';

function check(name: string, resource: object): string[] {
  const issues = validateResource(resource) as Issue[];
  const errors = issues.filter(isError);
  if (errors.length !== 0) throw new Error(`benchmark resource ${name} is invalid: ${JSON.stringify(errors)}`);
  return issues.map((i) => `${i.severity}: ${i.diagnostics ?? ''}`);
}

let sink = 0;
/** Microseconds per call of fn over `iterations` calls. */
function time(iterations: number, fn: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) if (fn() !== undefined) sink++;
  return Number(process.hrtime.bigint() - start) / 1000 / iterations;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r2 = (n: number) => Number(n.toFixed(2));

function measure(name: string, resource: object, iterations: number, rounds: number) {
  const text = JSON.stringify(resource);
  const nonErrorIssues = check(name, resource);
  // Warm-up of both paths.
  time(Math.min(iterations, 5000), () => validateResource(resource));
  time(Math.min(iterations, 5000), () => JSON.parse(text));
  time(Math.min(iterations, 5000), () => validateResource(resource, BASELINE_RULES));
  const parse: number[] = [];
  const validate: number[] = [];
  const baseline: number[] = [];
  const both: number[] = [];
  for (let r = 0; r < rounds; r++) {
    parse.push(time(iterations, () => JSON.parse(text)));
    baseline.push(time(iterations, () => validateResource(resource, BASELINE_RULES)));
    validate.push(time(iterations, () => validateResource(resource)));
    both.push(time(iterations, () => validateResource(JSON.parse(text))));
  }
  const p = median(parse);
  const v = median(validate);
  const v0 = median(baseline);
  const b = median(both);
  return {
    bytes: text.length,
    nonErrorIssues,
    jsonParseMicros: r2(p),
    validateBaselineRulesMicros: r2(v0),
    validateMicros: r2(v),
    extendedRulesCostMicros: r2(v - v0),
    parseAndValidateMicros: r2(b),
    validatePerSecond: Math.round(1e6 / v),
    validateOverParse: r2(v / p),
    parseAndValidateOverParse: r2(b / p),
    roundsValidateMicros: validate.map(r2),
    roundsBaselineRulesMicros: baseline.map(r2),
    roundsParseMicros: parse.map(r2),
  };
}

const iterations = Number(process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 20000);
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 5;
const warmStart = Date.now();
warmValidation();
const warmMillis = Date.now() - warmStart;
const observation_ = measure('Observation', observation, iterations, rounds);
const narrated_ = measure('Observation with narrative and extension', narratedObservation, iterations, rounds);
const patient_ = measure('Patient', patient, iterations, rounds);
console.log(
  JSON.stringify(
    {
      iterationsPerRound: iterations,
      rounds,
      warmMillis,
      observation: observation_,
      narratedObservation: narrated_,
      patient: patient_,
      // Kept for continuity with earlier output.
      observationMicros: observation_.validateMicros,
      patientMicros: patient_.validateMicros,
      sink: sink > 0,
    },
    null,
    2,
  ),
);
