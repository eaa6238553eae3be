import { generateEgn } from '../../src/domain/identity/egn-generator';
/** Typed builders for test resources; each returns a fresh object. */
export function buildPatient(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:1.2.3', value: `P-${Math.random().toString(36).slice(2, 10)}` }],
    name: [{ family: 'Ivanova', given: ['Maria'] }],
    gender: 'female',
    birthDate: '1980-04-12',
    ...overrides,
  };
}

export function buildObservation(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    status: 'final',
    // A heart rate is a vital sign: with profiles enforced, R4's vital-signs profile requires this category.
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    effectiveDateTime: '2026-01-02T10:00:00Z',
    valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    ...overrides,
  };
}

export const BG_EGN_SYSTEM = 'http://opennhis.org/fhir/sid/bg-egn';
let egnSerial = Math.floor(Math.random() * 400);
/** A checksum-valid EGN not used before in this test file (up to 500 per file). */
export function validEgn(birthDate = '1975-05-05', gender: 'male' | 'female' = 'female'): string {
  return generateEgn(birthDate, gender, egnSerial++);
}
