import { createHash } from 'node:crypto';
import type { Issue } from '../errors/fhir-error';
import { buildIssue } from './codes';

/**
 * An Attachment's declared `size` and `hash` must describe its inline `data`
 * (https://hl7.org/fhir/R4/datatypes.html#Attachment): `size` is "the number
 * of bytes of data that make up this attachment (before base64 encoding)",
 * `hash` "the calculated hash of the data using SHA-1, represented using
 * base64". When the content is only referenced by `url`, there is nothing
 * here to compare with.
 */
export function checkAttachment(node: Record<string, unknown>, expression: string, issues: Issue[]): void {
  const data = node.data;
  if (typeof data !== 'string') return;
  const size = node.size;
  const hash = node.hash;
  if (typeof size !== 'number' && typeof hash !== 'string') return;
  const bytes = Buffer.from(data, 'base64');
  if (typeof size === 'number' && size !== bytes.length) {
    issues.push(buildIssue('attachment', `Attachment.size is ${size} but the data holds ${bytes.length} bytes`, [`${expression}.size`]));
  }
  if (typeof hash === 'string') {
    const actual = createHash('sha1').update(bytes).digest();
    if (!Buffer.from(hash, 'base64').equals(actual)) {
      issues.push(
        buildIssue('attachment', `Attachment.hash is not the base64 SHA-1 of the data (expected ${actual.toString('base64')})`, [`${expression}.hash`]),
      );
    }
  }
}
