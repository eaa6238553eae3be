// Fragment links between narrative and resource resolve: https://hl7.org/fhir/R4/narrative.html,
// https://hl7.org/fhir/R4/references.html (Element.id: "for internal references"),
// https://hl7.org/fhir/R4/extension-narrativelink.html.
import { validateResource, warmValidation } from '../../src/validation';

beforeAll(() => warmValidation(), 120_000);

const div = (inner: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`;
const linkIssues = (r: unknown) =>
  validateResource(r)
    .filter((i) => i.nhisCode === 'NHIS-2015')
    .map((i) => `${i.expression?.join(',')}: ${i.diagnostics.split(' names')[0]}`);

function patient(narrative: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { resourceType: 'Patient', text: { status: 'generated', div: div(narrative) }, name: [{ id: 'n1', family: 'Petrova' }], ...extra };
}

test('links to a narrative anchor, an element id and a contained resource resolve', () => {
  expect(linkIssues(patient('<a href="#top">up</a><a name="top">Top</a>'))).toEqual([]);
  expect(linkIssues(patient('<p id="p1">x</p><a href="#p1">p</a><a href="#n1">name</a>'))).toEqual([]);
  expect(linkIssues(patient('<a href="#org">GP</a>', { contained: [{ resourceType: 'Organization', id: 'org', name: 'GP' }], generalPractitioner: [{ reference: '#org' }] }))).toEqual([]);
});

test('a link to nothing is refused at the narrative', () => {
  expect(linkIssues(patient('<a href="#missing">?</a><a name="other">x</a>'))).toEqual(["Patient.text.div: Narrative link '#missing'"]);
});

test('narratives inside a resource (Composition.section.text) are checked too', () => {
  const composition = {
    resourceType: 'Composition',
    status: 'final',
    type: { text: 'Discharge summary' },
    date: '2024-01-01',
    author: [{ reference: 'Practitioner/1' }],
    title: 'Discharge',
    section: [{ title: 'Plan', text: { status: 'generated', div: div('<a href="#nowhere">see</a>') } }],
  };
  expect(linkIssues(composition)).toEqual(["Composition.section[0].text.div: Narrative link '#nowhere'"]);
});

test("the narrativeLink extension's #id must name an anchor in the narrative", () => {
  const ext = (url: string) => ({ _gender: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/narrativeLink', valueUrl: url }] }, gender: 'female' });
  expect(linkIssues(patient('<span id="g">female</span>', ext('#g')))).toEqual([]);
  expect(linkIssues(patient('<span id="g">female</span>', ext('#sex')))).toEqual(["Patient.gender.extension[0].valueUrl: narrativeLink '#sex'"]);
});
