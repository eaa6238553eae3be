// Attachment size and hash agree with the inline data: https://hl7.org/fhir/R4/datatypes.html#Attachment
// ("size: number of bytes of content (if url provided)… before base64 encoding"; "hash: SHA-1, represented using base64").
import { createHash } from 'node:crypto';
import { validateResource, warmValidation } from '../../src/validation';

beforeAll(() => warmValidation(), 120_000);

const bytes = Buffer.from('%PDF-1.4 national discharge letter');
const data = bytes.toString('base64');
const sha1 = createHash('sha1').update(bytes).digest();

function report(attachment: Record<string, unknown>): Record<string, unknown> {
  return {
    resourceType: 'DiagnosticReport',
    status: 'final',
    code: { text: 'Discharge letter' },
    presentedForm: [{ contentType: 'application/pdf', ...attachment }],
  };
}

const attachmentIssues = (r: unknown) =>
  validateResource(r)
    .filter((i) => i.nhisCode === 'NHIS-2012')
    .map((i) => `${i.code} ${i.expression?.join(',')}`);

test('size and hash that describe the data pass, as does a url-only attachment with a size', () => {
  expect(attachmentIssues(report({ data, size: bytes.length, hash: sha1.toString('base64') }))).toEqual([]);
  expect(attachmentIssues(report({ url: 'https://example.org/letter.pdf', size: 123456, hash: sha1.toString('base64') }))).toEqual([]);
});

test('a wrong size is refused at Attachment.size', () => {
  expect(attachmentIssues(report({ data, size: bytes.length + 1 }))).toEqual(['business-rule DiagnosticReport.presentedForm[0].size']);
});

test('a hash of other data, or a hex digest instead of base64, is refused at Attachment.hash', () => {
  const other = createHash('sha1').update('something else').digest('base64');
  expect(attachmentIssues(report({ data, hash: other }))).toEqual(['business-rule DiagnosticReport.presentedForm[0].hash']);
  expect(attachmentIssues(report({ data, hash: sha1.toString('hex') }))).toEqual(['business-rule DiagnosticReport.presentedForm[0].hash']);
});

test('attachments are checked wherever the datatype occurs (here Patient.photo)', () => {
  const patient = { resourceType: 'Patient', photo: [{ contentType: 'image/png', data, size: 1 }] };
  expect(attachmentIssues(patient)).toEqual(['business-rule Patient.photo[0].size']);
});
