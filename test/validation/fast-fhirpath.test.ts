import fhirpath from 'fhirpath';
import fhirpathR4Model from 'fhirpath/fhir-context/r4';
import { constraintTriggers } from '../../src/validation/constraint-triggers';
import { compileFast, Unsupported } from '../../src/validation/fast-fhirpath';

const choices = { names: new Set(['value']), suffixes: new Set(['Quantity', 'String', 'Boolean']) };

const observation = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '1' }] },
  valueQuantity: { value: 3, code: 'kg' },
  component: [{ code: { coding: [{ system: 'http://loinc.org', code: '2' }] }, valueString: 'x' }],
  contained: [{ resourceType: 'Patient', id: 'a' }],
};

/** fhirpath.js's answer, for comparison. */
function reference(expression: string, node: object): unknown[] {
  return fhirpath.evaluate(node, expression, { resource: node, rootResource: node }, fhirpathR4Model as never) as unknown[];
}

test.each([
  'dataAbsentReason.empty() or value.empty()',
  'value.exists() and status = \'final\'',
  "status != 'final' implies value.exists()",
  'component.where(value.exists()).count() = 1',
  'component.all(code.exists())',
  "code.coding.select(system).isDistinct()",
  "(status = 'final') xor (status = 'amended')",
  "code.coding.code.first() in ('1' | '3')",
  "status.startsWith('fin') and status.contains('na')",
  "contained.id.first() & '-' & status = 'a-final'",
  'value.value >= 3 and value.value < 4',
  "'#a'.substring(1) in %rootResource.contained.id",
  "value.system.empty() or value.system = %ucum",
])('%s agrees with fhirpath.js', (expression) => {
  const fast = compileFast(expression, choices);
  expect(fast).toBeDefined();
  const env = { resource: observation, rootResource: observation };
  expect(fast!(observation, env)).toEqual(reference(expression, observation));
});

test('outside the subset: not compiled, or Unsupported at run time', () => {
  expect(compileFast('value is Quantity', choices)).toBeUndefined();
  expect(compileFast('descendants().count() > 1', choices)).toBeUndefined();
  const onExtensionOnly = compileFast('value.exists()', choices)!;
  expect(() => onExtensionOnly({ _valueString: { extension: [] } }, { resource: {}, rootResource: {} })).toThrow(Unsupported);
});

test('constraint triggers: top-level navigation only; context functions force evaluation', () => {
  expect(constraintTriggers('dataAbsentReason.empty() or value.empty()')).toEqual(new Set(['dataAbsentReason', 'value']));
  expect(constraintTriggers("contained.where(id.exists() and %resource.x).trace('x', id).empty()")).toEqual(new Set(['contained']));
  expect(constraintTriggers('hasValue() or children().count() > 1')).toBeNull();
  expect(constraintTriggers('%resource.status.exists()')).toBeNull();
});

describe('date comparison (per-1: a Period starts before it ends)', () => {
  const encounter = (start: string, end: string) => ({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, period: { start, end } });
  const expression = 'period.start <= period.end';

  test.each([
    ['2020-01-01T09:00:00Z', '2020-01-01T09:30:00Z'],
    ['2020-01-01T09:30:00Z', '2020-01-01T09:00:00Z'],
    ['2020-01-01T09:00:00Z', '2020-01-01T09:00:00Z'],
    ['2020-01-01T09:00:00.123+01:00', '2020-01-01T09:00:00.120+01:00'],
    ['2019-12-31T23:59:59-05:00', '2020-01-01T00:00:00-05:00'],
    ['2020-01', '2019-12'],
    ['2020-02-29', '2020-03-01'],
    ['2021', '2020'],
  ])('same shape %s <= %s: the text order, as fhirpath.js', (start, end) => {
    const resource = encounter(start, end);
    const fast = compileFast(expression, choices)!;
    expect(fast(resource, { resource, rootResource: resource })).toEqual(reference(expression, resource));
  });

  test.each([
    ['2020-01-01T10:00:00+01:00', '2020-01-01T09:30:00Z'],
    ['2020-01-01', '2020-01-01T09:30:00Z'],
    ['2020-01-01T09:00:00.1Z', '2020-01-01T09:00:00.10Z'],
    ['2020-02-31', '2020-03-01'],
    ['2020-01-01T23:59:60Z', '2020-01-02T00:00:00Z'],
  ])('other shapes %s <= %s are left to fhirpath.js', (start, end) => {
    const resource = encounter(start, end);
    const fast = compileFast(expression, choices)!;
    expect(() => fast(resource, { resource, rootResource: resource })).toThrow(Unsupported);
  });
});
