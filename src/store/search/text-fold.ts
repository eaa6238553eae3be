/**
 * Case- and accent-insensitive form of a string, computed in JS at write and at
 * query time so PostgreSQL and PGlite behave alike without extensions
 * (no unaccent, no ICU collations): NFKD, combining marks dropped, lower case,
 * a few letters that do not decompose mapped by hand, whitespace collapsed.
 */
const EXTRA: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', þ: 'th', ł: 'l', ı: 'i' };

export function foldText(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[ßæœøđðþłı]/g, (c) => EXTRA[c] ?? c)
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Cuts a string to at most `maxBytes` of UTF-8 (B-tree index entries are limited
 * to about 2.7 kB). The same cut is applied to query values, so long values
 * still match on their prefix.
 */
export function clipText(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s;
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (bytes + b > maxBytes) break;
    out += ch;
    bytes += b;
  }
  return out;
}

export const MAX_VALUE_BYTES = 1000;
export const MAX_SYSTEM_BYTES = 600;

/** Removes characters PostgreSQL text cannot hold (NUL) and lone surrogates. */
export function sanitizeText(s: string): string {
  return s.replace(/\u0000/g, '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** LIKE pattern escaping for the default escape character (backslash). */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}
