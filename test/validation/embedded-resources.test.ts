// FHIRPath environment of resources inside resources: https://hl7.org/fhir/R4/fhirpath.html#variables
// (%rootResource is the container of a contained resource; a Bundle entry is a resource of its own).
import { validateResource, warmValidation } from '../../src/validation';

beforeAll(() => warmValidation(), 120_000);

const withContained = {
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'x' },
  contained: [{ resourceType: 'Patient', id: 'p' }],
  subject: { reference: '#p' },
};

test("a Bundle entry's contained resources are its own: ref-1 looks in the entry, not in the Bundle", () => {
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:0c3b2f9e-6a1d-4c3e-9b1a-2f6d8e4a7c51', resource: withContained }] };
  expect(validateResource(bundle).filter((i) => i.severity === 'error')).toEqual([]);
});

test('a contained resource still sees its container as %rootResource (dom-3 and ref-1 as before)', () => {
  const dangling = { ...withContained, subject: { reference: '#other' } };
  expect(validateResource(dangling).map((i) => i.diagnostics.split(':')[0])).toEqual(expect.arrayContaining(['ref-1']));
});
