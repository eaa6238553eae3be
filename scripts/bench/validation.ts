/**
 * Micro-benchmark of the resource validator.
 * Build with `npm run build`, run with `node dist/scripts/bench/validation.js [iterations]`.
 * Prints JSON: average microseconds per validation after warm-up.
 */
import { validateResource, warmValidation } from '../../src/validation';

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

function measure(resource: object, iterations: number): number {
  for (let i = 0; i < Math.min(iterations, 5000); i++) validateResource(resource);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    if (validateResource(resource).length !== 0) throw new Error('benchmark resource is invalid');
  }
  return Number(process.hrtime.bigint() - start) / 1000 / iterations;
}

const iterations = Number(process.argv[2] ?? 20000);
const warmStart = Date.now();
warmValidation();
const warmMillis = Date.now() - warmStart;
const observationMicros = Number(measure(observation, iterations).toFixed(2));
const patientMicros = Number(measure(patient, iterations).toFixed(2));
console.log(JSON.stringify({ observationMicros, patientMicros, iterations, warmMillis }));
