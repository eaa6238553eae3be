import { FhirError } from '../errors/fhir-error';

/**
 * `If-Match: W/"3"` (or `"3"`, or a bare 3 as some clients send) → 3.
 * https://hl7.org/fhir/R4/http.html#concurrency
 */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!m) throw FhirError.badRequest(`If-Match must be a version ETag such as W/"3", not ${JSON.stringify(header)}`, { code: 'NHIS-1010' });
  return Number(m[1]);
}

export function etag(versionId: number): string {
  return `W/"${versionId}"`;
}

/** Search criteria of a conditional interaction (If-None-Exist header or URL query). */
export function parseCriteria(raw: string): URLSearchParams {
  const text = raw.trim().replace(/^.*\?/, '');
  const params = new URLSearchParams(text);
  if ([...params.keys()].length === 0) throw FhirError.badRequest('Conditional criteria are empty', { code: 'NHIS-1011' });
  return params;
}

/** Order-independent text of criteria: the key of the lock that makes conditional writes race-free. */
export function normalizeCriteria(resourceType: string, criteria: URLSearchParams): string {
  const pairs = [...criteria.entries()].sort(([a, av], [b, bv]) => (a === b ? av.localeCompare(bv) : a.localeCompare(b)));
  return `${resourceType}?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`;
}
