import { isLosslessNumber, LosslessNumber, parse as losslessParse } from 'lossless-json';
import { FhirError } from '../errors/fhir-error';

/**
 * JSON for FHIR without losing decimal precision.
 *
 * FHIR decimals carry their precision in their text (`1.50` is not `1.5`), which
 * `JSON.parse` throws away. Numbers whose text survives a round trip through a
 * JS number stay plain numbers; the rest become `LosslessNumber`s that keep
 * their source text and are written back verbatim. Node 20 has no
 * `JSON.rawJSON`, so stringify swaps them in through a sentinel.
 */

function parseNumber(text: string): number | LosslessNumber {
  const n = Number(text);
  return String(n) === text ? n : new LosslessNumber(text);
}

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Parses request JSON; malformed input is a 400 naming line and column. */
/**
 * Deepest nesting accepted. FHIR resources nest a few dozen levels at most (a Bundle entry's
 * Questionnaire items included); every walker downstream (validation, indexing, reference
 * rewriting) recurses, so a 100,000-deep array must be refused before it reaches them.
 */
export const MAX_JSON_DEPTH = 128;

/** The offset where nesting first exceeds `limit`, or -1; one pass, strings skipped. */
export function depthExceededAt(text: string, limit = MAX_JSON_DEPTH): number {
  return scanJson(text, limit).tooDeepAt;
}

/**
 * One pass over the text, strings skipped: where nesting first exceeds `limit`
 * (-1 if never), and whether a number token's text would not survive a round trip
 * through a JS number (`1.50`, `1e3`, `12345678901234567890`), so the lossless
 * parser is needed. Numbers inside strings (`"09:10:00"`) are not numbers.
 * On malformed text the answer only decides which parser reports the error.
 */
function scanJson(text: string, limit: number): { tooDeepAt: number; lossless: boolean; unpairedSurrogateAt: number } {
  let depth = 0;
  let lossless = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // A string's UTF-16 code units, raw or escaped (\uXXXX), must pair their surrogates:
      // a lone one is not Unicode text and cannot be stored or served as UTF-8.
      let highAt = -1;
      for (i++; i < n; i++) {
        let d = text.charCodeAt(i);
        const at = i;
        if (d === 92 /* \ */) {
          if (text.charCodeAt(i + 1) === 117 /* u */) {
            d = parseInt(text.slice(i + 2, i + 6), 16);
            i += 5;
          } else {
            i++;
            d = 0;
          }
        } else if (d === 34) break;
        const surrogate = d >= 0xd800 && d <= 0xdfff;
        if (highAt >= 0 && !(surrogate && d >= 0xdc00)) return { tooDeepAt: -1, lossless, unpairedSurrogateAt: highAt };
        if (surrogate && d >= 0xdc00 && highAt < 0) return { tooDeepAt: -1, lossless, unpairedSurrogateAt: at };
        highAt = surrogate && d < 0xdc00 ? at : -1;
      }
      if (highAt >= 0) return { tooDeepAt: -1, lossless, unpairedSurrogateAt: highAt };
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return { tooDeepAt: i, lossless, unpairedSurrogateAt: -1 };
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
    else if (!lossless && (c === 45 /* - */ || (c >= 48 && c <= 57))) {
      const start = i;
      // Plain integers of up to 15 digits without a leading zero always round-trip.
      let simple = true;
      if (c === 45) simple = false;
      else if (c === 48 && i + 1 < n && isNumberChar(text.charCodeAt(i + 1))) simple = false;
      while (i + 1 < n && isNumberChar(text.charCodeAt(i + 1))) {
        i++;
        const d = text.charCodeAt(i);
        if (d < 48 || d > 57) simple = false;
      }
      if (!simple || i - start + 1 > 15) {
        const token = text.slice(start, i + 1);
        if (String(Number(token)) !== token) lossless = true;
      }
    }
  }
  return { tooDeepAt: -1, lossless, unpairedSurrogateAt: -1 };
}

/** `0-9 . e E + -`: the characters of a JSON number token. */
function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}

export function parseJson(text: string): unknown {
  const scan = scanJson(text, MAX_JSON_DEPTH);
  const tooDeep = scan.tooDeepAt;
  if (tooDeep >= 0) {
    const where = position(text, tooDeep);
    throw FhirError.badRequest(`JSON nested deeper than ${MAX_JSON_DEPTH} levels at line ${where.line}, column ${where.column}`, { code: 'NHIS-1001' });
  }
  if (scan.unpairedSurrogateAt >= 0) {
    const where = position(text, scan.unpairedSurrogateAt);
    throw FhirError.badRequest(`Malformed JSON at line ${where.line}, column ${where.column}: an unpaired UTF-16 surrogate is not Unicode text`, { code: 'NHIS-1001' });
  }
  try {
    return scan.lossless ? losslessParse(text, null, parseNumber) : JSON.parse(text);
  } catch {
    // V8's message quotes the input (health data) and lacks a position; the
    // lossless parser's names the position and quotes nothing but one character.
    let message = 'not valid JSON';
    try {
      losslessParse(text);
    } catch (err) {
      message = err instanceof Error ? err.message : message;
    }
    const m = /at position (\d+)/.exec(message);
    const where = m ? position(text, Number(m[1])) : undefined;
    const detail = message.replace(/ at position \d+$/, '');
    throw FhirError.badRequest(
      where ? `Malformed JSON at line ${where.line}, column ${where.column}: ${detail}` : `Malformed JSON: ${detail}`,
      { code: 'NHIS-1001' },
    );
  }
}

const SENTINEL = '\u0001';
const SENTINEL_PATTERN = /"\\u0001(-?[0-9.eE+-]+)\\u0001"/g;

/** Serialises, writing `LosslessNumber`s back with their original text. */
export function stringifyJson(value: unknown): string {
  // Without a replacer JSON.stringify is several times faster; a LosslessNumber then shows up as
  // its fields, and only then (or if a resource really has such a key) is it done the slow way.
  const fast = JSON.stringify(value);
  if (fast === undefined || !fast.includes('"isLosslessNumber":true')) return fast;
  let sawLossless = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (isLosslessNumber(v)) {
      sawLossless = true;
      return SENTINEL + (v as LosslessNumber).value + SENTINEL;
    }
    return v;
  });
  return sawLossless ? text.replace(SENTINEL_PATTERN, '$1') : text;
}

/** A number value from the parsed tree, whichever representation it has. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (isLosslessNumber(value)) return Number((value as LosslessNumber).value);
  return undefined;
}

export { isLosslessNumber, LosslessNumber };
