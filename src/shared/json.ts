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

const NUMBER_TOKEN = /[:,[]\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

function needsLossless(text: string): boolean {
  NUMBER_TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = NUMBER_TOKEN.exec(text)) !== null) {
    const token = m[1];
    if (String(Number(token)) !== token) return true;
  }
  return false;
}

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
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return i;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return -1;
}

export function parseJson(text: string): unknown {
  const tooDeep = depthExceededAt(text);
  if (tooDeep >= 0) {
    const where = position(text, tooDeep);
    throw FhirError.badRequest(`JSON nested deeper than ${MAX_JSON_DEPTH} levels at line ${where.line}, column ${where.column}`, { code: 'NHIS-1001' });
  }
  try {
    return needsLossless(text) ? losslessParse(text, null, parseNumber) : JSON.parse(text);
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
