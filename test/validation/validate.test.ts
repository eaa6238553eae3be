import { parseJson, stringifyJson } from '../../src/shared/json';
import { validateResource, warmValidation } from '../../src/validation';

function buildObservation(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id: 'hr-1',
    status: 'final',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
    ],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2024-05-01T10:30:00+02:00',
    valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    ...overrides,
  };
}

function buildPatient(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    id: 'p1',
    identifier: [{ system: 'urn:oid:1.2.3.4', value: '12345' }],
    active: true,
    name: [{ family: 'Doe', given: ['Jane', 'Q'] }],
    gender: 'female',
    birthDate: '1980-02-29',
    ...overrides,
  };
}

/** The (expression, code, nhisCode) of each issue, for exact assertions. */
function summarise(resource: unknown, options?: Parameters<typeof validateResource>[1]) {
  return validateResource(resource, options).map((i) => ({ expression: i.expression, code: i.code, nhisCode: i.nhisCode }));
}

beforeAll(() => warmValidation(), 180_000);

describe('valid resources', () => {
  test('a Patient and a vital-sign Observation pass', () => {
    expect(validateResource(buildPatient())).toEqual([]);
    expect(validateResource(buildObservation())).toEqual([]);
  });

  test('a primitive extension satisfies a required element', () => {
    const obs = buildObservation({ status: undefined, _status: { extension: [{ url: 'http://example.org/x', valueString: 'y' }] } });
    delete obs.status;
    expect(validateResource(obs)).toEqual([]);
  });

  test('a decimal given as LosslessNumber is accepted and the input is not mutated', () => {
    const text = JSON.stringify(buildObservation()).replace('"value":72', '"value":72.50');
    const obs = parseJson(text);
    const before = stringifyJson(obs);
    expect(validateResource(obs)).toEqual([]);
    expect(stringifyJson(obs)).toBe(before);
    expect(before).toContain('72.50');
  });
});

describe('structure', () => {
  test('unknown element', () => {
    expect(summarise(buildPatient({ nickname: 'JD' }))).toEqual([
      { expression: ['Patient.nickname'], code: 'structure', nhisCode: 'NHIS-2001' },
    ]);
  });

  test('wrong type', () => {
    expect(summarise(buildPatient({ active: 'yes' }))).toEqual([
      { expression: ['Patient.active'], code: 'structure', nhisCode: 'NHIS-2002' },
    ]);
    expect(summarise(buildPatient({ name: { family: 'Doe' } }))).toEqual([
      { expression: ['Patient.name'], code: 'structure', nhisCode: 'NHIS-2002' },
    ]);
  });

  test('missing required element', () => {
    const obs = buildObservation();
    delete obs.status;
    expect(summarise(obs)).toEqual([{ expression: ['Observation.status'], code: 'required', nhisCode: 'NHIS-2003' }]);
  });

  test('two variants of a choice element', () => {
    expect(summarise(buildObservation({ valueString: '72' }))).toEqual([
      { expression: ['Observation.valueQuantity', 'Observation.valueString'], code: 'structure', nhisCode: 'NHIS-2006' },
    ]);
  });

  test('contentReference elements (Questionnaire.item.item) are checked like their target', () => {
    const q = {
      resourceType: 'Questionnaire',
      status: 'draft',
      item: [{ linkId: '1', type: 'group', item: [{ linkId: '1.1', type: 'string', colour: 'red' }] }],
    };
    expect(summarise(q)).toEqual([
      { expression: ['Questionnaire.item[0].item[0].colour'], code: 'structure', nhisCode: 'NHIS-2001' },
    ]);
  });

  test('every issue is reported, not only the first', () => {
    const obs = buildObservation({ foo: 1, effectiveDateTime: 'yesterday' });
    delete obs.status;
    expect(summarise(obs).map((i) => i.expression?.[0]).sort()).toEqual([
      'Observation.effectiveDateTime',
      'Observation.foo',
      'Observation.status',
    ]);
  });
});

describe('primitive formats', () => {
  test.each([
    ['date', buildPatient({ birthDate: '1980-13-01' }), 'Patient.birthDate'],
    ['id', buildPatient({ id: 'not an id' }), 'Patient.id'],
    ['base64Binary', buildPatient({ photo: [{ contentType: 'image/png', data: '***' }] }), 'Patient.photo[0].data'],
    ['uri', buildPatient({ identifier: [{ system: 'http://example.org/a b', value: '1' }] }), 'Patient.identifier[0].system'],
    ['dateTime', buildObservation({ effectiveDateTime: '2024-05-01T10:30' }), 'Observation.effectiveDateTime'],
    ['decimal as string', buildObservation({ valueQuantity: { value: '72' } }), 'Observation.valueQuantity.value'],
  ])('bad %s', (_name, resource, expression) => {
    const issues = summarise(resource);
    expect(issues).toHaveLength(1);
    expect(issues[0].expression).toEqual([expression]);
    expect(['value', 'structure']).toContain(issues[0].code);
  });

  test('empty string and control characters', () => {
    expect(summarise(buildPatient({ name: [{ family: 'Doe', given: ['Jane', ''] }] }))).toEqual([
      { expression: ['Patient.name[0].given[1]'], code: 'value', nhisCode: 'NHIS-2004' },
    ]);
    expect(summarise(buildPatient({ name: [{ family: 'Do\u0001e' }] }))).toEqual([
      { expression: ['Patient.name[0].family'], code: 'value', nhisCode: 'NHIS-2004' },
    ]);
  });

  test('an integer with a fractional text is rejected', () => {
    const patient = parseJson(JSON.stringify(buildPatient()).replace(/}$/, ',"multipleBirthInteger":2.0}'));
    expect(summarise(patient)).toEqual([
      { expression: ['Patient.multipleBirthInteger'], code: 'value', nhisCode: 'NHIS-2004' },
    ]);
  });
});

describe('invariants', () => {
  test('obs-6: dataAbsentReason with a value', () => {
    const issues = validateResource(buildObservation({ dataAbsentReason: { text: 'unknown' } }));
    expect(issues).toEqual([
      {
        severity: 'error',
        code: 'invariant',
        diagnostics: 'obs-6: dataAbsentReason SHALL only be present if Observation.value[x] is not present',
        expression: ['Observation'],
        nhisCode: 'NHIS-2005',
      },
    ]);
  });

  test('pat-1 on a contact, with its index', () => {
    const patient = buildPatient({
      contact: [{ name: { family: 'Roe' } }, { relationship: [{ text: 'friend' }] }],
    });
    const issues = validateResource(patient);
    expect(issues.map((i) => [i.expression, i.code, i.diagnostics.slice(0, 6)])).toEqual([
      [['Patient.contact[1]'], 'invariant', 'pat-1:'],
    ]);
  });

  test('datatype invariants apply where the datatype occurs (qty-3)', () => {
    expect(summarise(buildObservation({ valueQuantity: { value: 72, code: '/min' } }))).toEqual([
      { expression: ['Observation.valueQuantity'], code: 'invariant', nhisCode: 'NHIS-2005' },
    ]);
  });

  test('dom-2: a contained resource does not contain resources', () => {
    const patient = buildPatient({
      managingOrganization: { reference: '#org' },
      contained: [{ resourceType: 'Organization', id: 'org', name: 'X', contained: [{ resourceType: 'Organization', id: 'y', name: 'Y' }] }],
    });
    expect(summarise(patient).map((i) => i.expression?.[0])).toContain('Patient');
  });

  test('dom-3: a contained resource nobody refers to', () => {
    const patient = buildPatient({ contained: [{ resourceType: 'Organization', id: 'org', name: 'X' }] });
    expect(validateResource(patient).map((i) => [i.expression, i.diagnostics.slice(0, 6)])).toEqual([[['Patient'], 'dom-3:']]);
    expect(validateResource({ ...patient, managingOrganization: { reference: '#org' } })).toEqual([]);
  });
});

describe('embedded resources', () => {
  test('an error in a contained resource is reported at its path', () => {
    const patient = buildPatient({
      generalPractitioner: [{ reference: '#gp' }],
      contained: [{ resourceType: 'Practitioner', id: 'gp', birthDate: '19-01-01' }],
    });
    expect(summarise(patient)).toEqual([
      { expression: ['Patient.contained[0].birthDate'], code: 'value', nhisCode: 'NHIS-2004' },
    ]);
  });

  test('an unknown resourceType in contained', () => {
    const patient = buildPatient({ managingOrganization: { reference: '#x' }, contained: [{ resourceType: 'Nope', id: 'x' }] });
    expect(summarise(patient)).toEqual([
      { expression: ['Patient.contained[0]'], code: 'invalid', nhisCode: 'NHIS-2008' },
    ]);
  });

  test('bundle entries are validated as their own resourceType', () => {
    const obs = buildObservation();
    delete obs.status;
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ fullUrl: 'http://example.org/fhir/Observation/hr-1', resource: obs }],
    };
    expect(summarise(bundle)).toEqual([
      { expression: ['Bundle.entry[0].resource.status'], code: 'required', nhisCode: 'NHIS-2003' },
    ]);
  });

  test('pathPrefix replaces the resource type', () => {
    const obs = buildObservation();
    delete obs.status;
    expect(summarise(obs, { pathPrefix: 'Bundle.entry[3].resource' })).toEqual([
      { expression: ['Bundle.entry[3].resource.status'], code: 'required', nhisCode: 'NHIS-2003' },
    ]);
  });
});

describe('bundle rules', () => {
  test('duplicate fullUrl', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'urn:uuid:0b1f3c1e-8f6a-4d2e-9f0a-1c2b3d4e5f60', resource: buildPatient({ id: undefined }) },
        { fullUrl: 'urn:uuid:0b1f3c1e-8f6a-4d2e-9f0a-1c2b3d4e5f60', resource: buildPatient({ id: undefined }) },
      ],
    };
    expect(summarise(JSON.parse(JSON.stringify(bundle)))).toEqual([
      { expression: ['Bundle.entry[1].fullUrl'], code: 'invalid', nhisCode: 'NHIS-2007' },
    ]);
  });

  test('a RESTful fullUrl must name the resource', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ fullUrl: 'http://example.org/fhir/Patient/other', resource: buildPatient() }],
    };
    expect(summarise(bundle)).toEqual([{ expression: ['Bundle.entry[0].fullUrl'], code: 'invalid', nhisCode: 'NHIS-2007' }]);
  });
});

describe('not a resource', () => {
  test.each([
    ['an array', [], 'Resource'],
    ['a string', 'x', 'Resource'],
    ['no resourceType', { id: 'x' }, 'Resource.resourceType'],
    ['an unknown resourceType', { resourceType: 'Nope' }, 'Resource.resourceType'],
  ])('%s', (_name, body, expression) => {
    expect(summarise(body)).toEqual([{ expression: [expression], code: 'invalid', nhisCode: 'NHIS-2008' }]);
  });

  test('expectedType mismatch', () => {
    expect(summarise(buildPatient(), { expectedType: 'Observation' })).toEqual([
      { expression: ['Patient.resourceType'], code: 'invalid', nhisCode: 'NHIS-2008' },
    ]);
  });
});
