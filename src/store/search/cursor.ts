import { FhirError } from '../../errors/fhir-error';

/**
 * Keyset paging cursor, carried in the `_cursor` parameter of `next`/`previous`
 * links: the sort key values, type and id of the row the page continues from.
 * Bound to the sort it was made for; anything else is a 400, never a 500.
 */
export interface Cursor {
  values: (string | null)[];
  type: string;
  id: string;
  backward: boolean;
}

export function encodeCursor(c: Cursor, sortText: string): string {
  return Buffer.from(JSON.stringify({ s: sortText, v: c.values, t: c.type, i: c.id, b: c.backward ? 1 : 0 }), 'utf8').toString('base64url');
}

const NUMERIC = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;
const TIMESTAMP = /^(-?infinity|\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2}){0,2}|Z)?)$/;

function invalid(): FhirError {
  return FhirError.badRequest('Invalid or expired _cursor; restart the search from its first page', { expression: ['_cursor'], code: 'NHIS-1301' });
}

/** `casts` gives the SQL type of each sort key, so tampered values are refused before they reach the database. */
export function decodeCursor(text: string, sortText: string, casts: string[]): Cursor {
  if (text.length > 8192 || !/^[A-Za-z0-9_-]+$/.test(text)) throw invalid();
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const o = raw as { s?: unknown; v?: unknown; t?: unknown; i?: unknown; b?: unknown };
  if (!o || typeof o !== 'object' || o.s !== sortText || !Array.isArray(o.v) || o.v.length !== casts.length) throw invalid();
  if (typeof o.t !== 'string' || typeof o.i !== 'string' || o.i.length > 256 || o.t.length > 64) throw invalid();
  const values = o.v as unknown[];
  values.forEach((v, i) => {
    if (v === null) return;
    if (typeof v !== 'string' || v.length > 4000 || v.includes('\u0000')) throw invalid();
    if (casts[i] === 'numeric' && !NUMERIC.test(v)) throw invalid();
    if (casts[i] === 'timestamptz' && !TIMESTAMP.test(v)) throw invalid();
  });
  return { values: values as (string | null)[], type: o.t, id: o.i, backward: o.b === 1 };
}
