// Bundle rules: https://hl7.org/fhir/R4/bundle.html (Bundle.entry.fullUrl, bdl-7),
// https://hl7.org/fhir/R4/bundle.html#references (resolving references in Bundles),
// https://hl7.org/fhir/R4/composition.html (a document includes what its Composition references),
// https://hl7.org/fhir/R4/http.html#paging (paging links).
import { validateResource, warmValidation } from '../../src/validation';

beforeAll(() => warmValidation(), 120_000);

const BASE = 'http://example.org/fhir/';
const UUID_A = 'urn:uuid:0c3b2f9e-6a1d-4c3e-9b1a-2f6d8e4a7c51';
const UUID_B = 'urn:uuid:7d2e1f0a-3b4c-4d5e-8f6a-9b0c1d2e3f4a';

/** `severity nhisCode expression: diagnostics-start` of the Bundle issues. */
function bundleIssues(bundle: unknown): string[] {
  return validateResource(bundle)
    .filter((i) => i.nhisCode === 'NHIS-2007' || i.nhisCode === 'NHIS-2011')
    .map((i) => `${i.severity} ${i.nhisCode} ${i.expression?.join(',')}`);
}

const patient = (id?: string, versionId?: string) => ({ resourceType: 'Patient', ...(id ? { id } : {}), ...(versionId ? { meta: { versionId } } : {}) });
const observation = (subject: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: subject } });
const collection = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'collection', entry });

describe('fullUrl', () => {
  test('absolute URLs, urn:uuid (either case) and urn:oid pass', () => {
    expect(
      bundleIssues(collection([{ fullUrl: `${BASE}Patient/1`, resource: patient('1') }, { fullUrl: UUID_A.toUpperCase().replace('URN:UUID:', 'urn:uuid:'), resource: patient() }, { fullUrl: 'urn:oid:1.2.3.4', resource: patient() }])),
    ).toEqual([]);
  });
  test('a relative fullUrl, a malformed urn:uuid and a malformed urn:oid are refused', () => {
    expect(bundleIssues(collection([{ fullUrl: 'Patient/1', resource: patient('1') }, { fullUrl: 'urn:uuid:1234', resource: patient() }, { fullUrl: 'urn:oid:1.02', resource: patient() }]))).toEqual([
      'error NHIS-2007 Bundle.entry[0].fullUrl',
      'error NHIS-2007 Bundle.entry[1].fullUrl',
      'error NHIS-2007 Bundle.entry[2].fullUrl',
    ]);
  });
  test('a document, message or collection entry needs a fullUrl; a transaction POST does not', () => {
    expect(bundleIssues(collection([{ resource: patient('1') }]))).toEqual(['error NHIS-2007 Bundle.entry[0]']);
    expect(bundleIssues({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient(), request: { method: 'POST', url: 'Patient' } }] })).toEqual([]);
  });
});

describe('links', () => {
  test('self and paging relations occur at most once; other relations may repeat', () => {
    const bundle = (link: unknown[]) => ({ resourceType: 'Bundle', type: 'searchset', link });
    expect(bundleIssues(bundle([{ relation: 'self', url: `${BASE}Patient` }, { relation: 'alternate', url: 'a' }, { relation: 'alternate', url: 'b' }]))).toEqual([]);
    expect(bundleIssues(bundle([{ relation: 'self', url: `${BASE}Patient` }, { relation: 'next', url: 'n1' }, { relation: 'next', url: 'n2' }]))).toEqual([
      'error NHIS-2007 Bundle.link[2].relation',
    ]);
  });
});

describe('references inside document and collection Bundles', () => {
  test('absolute, urn:uuid and relative-to-a-RESTful-fullUrl references resolve; an http URL outside the Bundle is allowed', () => {
    expect(
      bundleIssues(
        collection([
          { fullUrl: `${BASE}Patient/23`, resource: patient('23') },
          { fullUrl: UUID_A, resource: patient() },
          { fullUrl: `${BASE}Observation/1`, resource: { ...observation('Patient/23'), id: '1' } },
          { fullUrl: `${BASE}Observation/2`, resource: { ...observation(`${BASE}Patient/23`), id: '2' } },
          { fullUrl: UUID_B, resource: observation(UUID_A) },
          { fullUrl: `${BASE}Observation/3`, resource: { ...observation('http://other.org/fhir/Patient/9'), id: '3' } },
        ]),
      ),
    ).toEqual([]);
  });

  test('a urn:uuid reference to no entry is refused', () => {
    expect(bundleIssues(collection([{ fullUrl: UUID_B, resource: observation(UUID_A) }]))).toEqual(['error NHIS-2011 Bundle.entry[0].resource.subject.reference']);
  });

  test('versioned references must name a version the Bundle holds; unversioned ones must not be ambiguous', () => {
    const versions = [
      { fullUrl: `${BASE}Patient/45`, resource: patient('45', '1') },
      { fullUrl: `${BASE}Patient/45`, resource: patient('45', '2') },
    ];
    const obs = (ref: string) => ({ fullUrl: `${BASE}Observation/47`, resource: { ...observation(ref), id: '47' } });
    expect(bundleIssues(collection([...versions, obs('Patient/45/_history/2')]))).toEqual([]);
    expect(bundleIssues(collection([...versions, obs('Patient/45/_history/3')]))).toEqual(['error NHIS-2011 Bundle.entry[2].resource.subject.reference']);
    expect(bundleIssues(collection([...versions, obs('Patient/45')]))).toEqual(['error NHIS-2011 Bundle.entry[2].resource.subject.reference']);
  });

  test("in a document, everything the Composition references is in the Bundle", () => {
    const document = (entries: unknown[]) => ({
      resourceType: 'Bundle',
      type: 'document',
      identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d' },
      timestamp: '2024-01-01T10:00:00Z',
      entry: [
        {
          fullUrl: `${BASE}Composition/c1`,
          resource: { resourceType: 'Composition', id: 'c1', status: 'final', type: { text: 'Summary' }, date: '2024-01-01', title: 'Summary', subject: { reference: 'Patient/p1' }, author: [{ reference: 'Practitioner/d1' }] },
        },
        ...entries,
      ],
    });
    const practitioner = { fullUrl: `${BASE}Practitioner/d1`, resource: { resourceType: 'Practitioner', id: 'd1' } };
    expect(bundleIssues(document([{ fullUrl: `${BASE}Patient/p1`, resource: patient('p1') }, practitioner]))).toEqual([]);
    expect(bundleIssues(document([practitioner]))).toEqual(['error NHIS-2011 Bundle.entry[0].resource.subject.reference']);
  });

  test('a relative reference from an entry without a RESTful fullUrl that matches only by type and id is a warning', () => {
    expect(bundleIssues(collection([{ fullUrl: `${BASE}Patient/p1`, resource: patient('p1') }, { fullUrl: UUID_A, resource: observation('Patient/p1') }]))).toEqual([
      'warning NHIS-2011 Bundle.entry[1].resource.subject.reference',
    ]);
  });

  test('transaction Bundles are not resolved here (the server assigns ids and rewrites urn: references)', () => {
    const tx = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: UUID_B, resource: observation(UUID_A), request: { method: 'POST', url: 'Observation' } }] };
    expect(bundleIssues(tx)).toEqual([]);
  });
});
