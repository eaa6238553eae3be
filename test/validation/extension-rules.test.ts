// Extensions checked against their definitions: https://hl7.org/fhir/R4/extensibility.html,
// https://hl7.org/fhir/R4/defining-extensions.html (context, value[x], sub-extensions, modifier).
import { validateResource, warmValidation } from '../../src/validation';
import { compileExtensionDefinition } from '../../src/validation/extension-definitions';

beforeAll(() => warmValidation(), 120_000);

const EXT = 'http://hl7.org/fhir/StructureDefinition/';

/** `severity nhisCode @ expression` of the extension issues (NHIS-2013, NHIS-2014). */
function extensionIssues(resource: unknown): string[] {
  return validateResource(resource)
    .filter((i) => i.nhisCode === 'NHIS-2013' || i.nhisCode === 'NHIS-2014')
    .map((i) => `${i.severity} ${i.nhisCode} @ ${i.expression?.join(',')}`);
}

const address = { city: 'Sofia', country: 'BG' };
const patient = (extra: Record<string, unknown>) => ({ resourceType: 'Patient', name: [{ family: 'Petrova' }], ...extra });
const observation = (extra: Record<string, unknown>) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...extra });

describe('context (StructureDefinition.context)', () => {
  test('patient-birthPlace on a Patient passes; on an Observation it is refused', () => {
    expect(extensionIssues(patient({ extension: [{ url: `${EXT}patient-birthPlace`, valueAddress: address }] }))).toEqual([]);
    expect(extensionIssues(observation({ extension: [{ url: `${EXT}patient-birthPlace`, valueAddress: address }] }))).toEqual([
      'error NHIS-2013 @ Observation.extension[0]',
    ]);
  });

  test('a datatype-path context: humanname-own-prefix on HumanName.family, not on HumanName.given', () => {
    const ext = [{ url: `${EXT}humanname-own-prefix`, valueString: 'van' }];
    expect(extensionIssues(patient({ name: [{ family: 'Berg', _family: { extension: ext } }] }))).toEqual([]);
    expect(extensionIssues(patient({ name: [{ family: 'Berg', given: ['Ann'], _given: [{ extension: ext }] }] }))).toEqual([
      'error NHIS-2013 @ Patient.name[0].given[0].extension[0]',
    ]);
  });

  test('a type context holds for the types derived from it (Quantity → Age)', () => {
    const ext = [{ url: `${EXT}iso21090-PQ-translation`, valueQuantity: { value: 1, unit: 'a' } }];
    expect(extensionIssues(observation({ valueQuantity: { value: 3, extension: ext } }))).toEqual([]);
    const condition = { resourceType: 'Condition', subject: { reference: 'Patient/1' }, onsetAge: { value: 3, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a', extension: ext } };
    expect(extensionIssues(condition)).toEqual([]);
    expect(extensionIssues(observation({ valuePeriod: { start: '2024-01-01', extension: ext } }))).toEqual(['error NHIS-2013 @ Observation.valuePeriod.extension[0]']);
  });

  test('an Element context allows the extension anywhere', () => {
    const ext = [{ url: `${EXT}data-absent-reason`, valueCode: 'unknown' }];
    expect(extensionIssues(patient({ _birthDate: { extension: ext } }))).toEqual([]);
  });

  test('the R4 core places structuredefinition-fhir-type on ElementDefinition.type (context corrected as the HL7 validator does)', () => {
    const sd = {
      resourceType: 'StructureDefinition',
      url: 'http://example.org/fhir/StructureDefinition/x',
      name: 'X',
      status: 'draft',
      kind: 'complex-type',
      abstract: false,
      type: 'Extension',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension',
      derivation: 'constraint',
      differential: {
        element: [{ id: 'Extension.url', path: 'Extension.url', type: [{ extension: [{ url: `${EXT}structuredefinition-fhir-type`, valueUrl: 'uri' }], code: 'http://hl7.org/fhirpath/System.String' }] }],
      },
    };
    expect(extensionIssues(sd)).toEqual([]);
  });
});

describe('value[x]', () => {
  test('a type the definition does not allow is refused, and a required value must be there', () => {
    expect(extensionIssues(patient({ extension: [{ url: `${EXT}patient-birthPlace`, valueString: 'Sofia' }] }))).toEqual([
      'error NHIS-2013 @ Patient.extension[0].valueString',
    ]);
    expect(extensionIssues(patient({ extension: [{ url: `${EXT}patient-mothersMaidenName`, extension: [{ url: 'x', valueString: 'y' }] }] }))).toEqual([
      'error NHIS-2013 @ Patient.extension[0].extension',
    ]);
  });
});

describe('complex extensions (sub-extensions as slices of Extension.extension)', () => {
  const code = { url: 'code', valueCodeableConcept: { text: 'BG' } };
  test('defined sub-extensions pass', () => {
    expect(extensionIssues(patient({ extension: [{ url: `${EXT}patient-nationality`, extension: [code, { url: 'period', valuePeriod: { start: '2000' } }] }] }))).toEqual([]);
  });
  test('an undefined sub-extension, a value on the complex extension, a repeated 0..1 sub-extension and a wrong sub-extension type are refused', () => {
    const issues = extensionIssues(
      patient({
        extension: [
          { url: `${EXT}patient-nationality`, extension: [{ url: 'country', valueString: 'BG' }] },
          { url: `${EXT}patient-nationality`, valueString: 'BG' },
          { url: `${EXT}patient-nationality`, extension: [code, code] },
          { url: `${EXT}patient-nationality`, extension: [{ url: 'code', valueString: 'BG' }] },
        ],
      }),
    );
    expect(issues).toEqual([
      'error NHIS-2013 @ Patient.extension[0].extension[0]',
      'error NHIS-2013 @ Patient.extension[1]',
      'error NHIS-2013 @ Patient.extension[2].extension',
      'error NHIS-2013 @ Patient.extension[3].extension[0].valueString',
    ]);
  });
});

describe('modifier extensions', () => {
  test('a modifier extension in `extension`, and a plain one in `modifierExtension`, are refused', () => {
    const nutritionOrder = (extra: Record<string, unknown>) => ({ resourceType: 'NutritionOrder', status: 'active', intent: 'order', patient: { reference: 'Patient/1' }, dateTime: '2024-01-01', ...extra });
    const doNotPerform = { url: `${EXT}request-doNotPerform`, valueBoolean: true };
    expect(extensionIssues(nutritionOrder({ modifierExtension: [doNotPerform] }))).toEqual([]);
    expect(extensionIssues(nutritionOrder({ extension: [doNotPerform] }))).toEqual(['error NHIS-2013 @ NutritionOrder.extension[0]']);
    expect(extensionIssues(patient({ modifierExtension: [{ url: `${EXT}patient-mothersMaidenName`, valueString: 'x' }] }))).toEqual([
      'error NHIS-2013 @ Patient.modifierExtension[0]',
    ]);
  });
});

describe('unknown extensions stay unchecked', () => {
  test('another publisher’s extension: no issue; an unknown one under the R4 core namespace: a warning', () => {
    expect(extensionIssues(patient({ extension: [{ url: 'http://example.org/fhir/StructureDefinition/x', valueString: 'y' }] }))).toEqual([]);
    expect(extensionIssues(patient({ extension: [{ url: `${EXT}patient-birthplace`, valueString: 'typo' }] }))).toEqual(['warning NHIS-2014 @ Patient.extension[0]']);
  });
});

test('a differential-only definition (as fhir-profiles/ would ship) compiles to the same rules', () => {
  const def = compileExtensionDefinition({
    resourceType: 'StructureDefinition',
    url: 'http://opennhis.org/fhir/StructureDefinition/example',
    type: 'Extension',
    context: [{ type: 'element', expression: 'MedicationRequest' }],
    differential: {
      element: [
        { id: 'Extension', path: 'Extension' },
        { id: 'Extension.extension', path: 'Extension.extension', max: '0' },
        { id: 'Extension.value[x]', path: 'Extension.value[x]', min: 1, type: [{ code: 'string' }] },
      ],
    },
  });
  expect(def.contexts).toEqual([{ type: 'element', expression: 'MedicationRequest' }]);
  expect([def.value.min, def.value.max, [...(def.value.types ?? [])], def.nestedMax]).toEqual([1, 1, ['String'], 0]);
});
