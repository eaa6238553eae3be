import { isLosslessNumber } from 'lossless-json';

/**
 * Checks for the R4 primitive types (https://hl7.org/fhir/R4/datatypes.html#primitive).
 * The regexes are those of the specification, anchored. Numbers may arrive as
 * plain JS numbers or as `LosslessNumber`s (see `shared/json.ts`).
 */

export type PrimitiveProblem = { kind: 'wrongType' | 'primitiveFormat'; message: string };
export type PrimitiveCheck = (value: unknown) => PrimitiveProblem | undefined;

// Control characters other than tab, LF and CR are not allowed in FHIR strings
// (and \u0001 is an internal sentinel of the JSON layer).
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
const MAX_STRING = 1024 * 1024;

const PATTERNS: Record<string, RegExp> = {
  base64Binary: /^(\s*([0-9a-zA-Z+/=]){4}\s*)+$/,
  canonical: /^\S*$/,
  code: /^[^\s]+(\s[^\s]+)*$/,
  date: /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$/,
  dateTime:
    /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/,
  // Dots alone are path segments (`Observation/..`), not ids: see shared/ids.ts.
  id: /^(?!\.+$)[A-Za-z0-9\-.]{1,64}$/,
  instant:
    /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$/,
  oid: /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/,
  time: /^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$/,
  uri: /^\S*$/,
  url: /^\S*$/,
  uuid: /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
};

const DECIMAL_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function wrongType(expected: string, value: unknown): PrimitiveProblem {
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return { kind: 'wrongType', message: `expected ${expected}, found ${actual}` };
}

/** Types derived from `string`, whose values SHALL NOT exceed 1 MB. */
const STRING_TYPES = new Set(['string', 'code', 'id', 'markdown']);

function checkString(value: unknown, type: string): PrimitiveProblem | undefined {
  if (typeof value !== 'string') return wrongType(`a JSON string (${type})`, value);
  if (value.length === 0) return { kind: 'primitiveFormat', message: `empty string is not a valid ${type}` };
  if (value.length > MAX_STRING && STRING_TYPES.has(type)) {
    return { kind: 'primitiveFormat', message: `${type} exceeds 1 MB` };
  }
  if (CONTROL_CHARS.test(value)) return { kind: 'primitiveFormat', message: `${type} contains a control character` };
  return undefined;
}

function stringCheck(type: string): PrimitiveCheck {
  const pattern = PATTERNS[type];
  if (!pattern) return (v) => checkString(v, type);
  return (v) => {
    const problem = checkString(v, type);
    if (problem) return problem;
    return pattern.test(v as string)
      ? undefined
      : { kind: 'primitiveFormat', message: `${JSON.stringify(abbreviate(v as string))} is not a valid ${type}` };
  };
}

function abbreviate(s: string): string {
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

function integerCheck(type: string, min: number): PrimitiveCheck {
  return (v) => {
    let n: number;
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) return { kind: 'primitiveFormat', message: `${v} is not a valid ${type}` };
      n = v;
    } else if (isLosslessNumber(v)) {
      const text = v.value;
      if (!INTEGER_TEXT.test(text)) return { kind: 'primitiveFormat', message: `${text} is not a valid ${type}` };
      n = Number(text);
    } else {
      return wrongType(`a JSON number (${type})`, v);
    }
    if (n < min || n > INT32_MAX) {
      return { kind: 'primitiveFormat', message: `${n} is out of range for ${type} (${min}..${INT32_MAX})` };
    }
    return undefined;
  };
}

/**
 * PostgreSQL's `numeric` (where the search index keeps decimals) holds at most 131,072 digits
 * before the decimal point and 16,383 after it. A decimal beyond that is refused here, with its
 * element path, rather than by the database as a 500 after the rest of the write ran.
 */
const NUMERIC_MAX_INTEGER_DIGITS = 131072;
const NUMERIC_MAX_SCALE = 16383;

/** Whether a JSON number's text fits PostgreSQL `numeric`; `text` matches DECIMAL_TEXT. */
export function fitsPostgresNumeric(text: string): boolean {
  const m = /^-?([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (!m) return false;
  const intPart = m[1];
  const fraction = m[2] ?? '';
  // An exponent beyond ±1e9 is out of range whatever the digits (and would lose precision as a JS number).
  if (m[3] !== undefined && m[3].replace(/^[+-]?0*/, '').length > 9) return false;
  const exponent = m[3] === undefined ? 0 : Number(m[3]);
  if (fraction.length - exponent > NUMERIC_MAX_SCALE) return false;
  const digits = intPart + fraction;
  const leadingZeros = digits.length - digits.replace(/^0+/, '').length;
  if (leadingZeros === digits.length) return true; // zero
  return intPart.length + exponent - leadingZeros <= NUMERIC_MAX_INTEGER_DIGITS;
}

const decimalCheck: PrimitiveCheck = (v) => {
  if (typeof v === 'number') {
    // Every finite JS number fits PostgreSQL numeric.
    return Number.isFinite(v) ? undefined : { kind: 'primitiveFormat', message: `${v} is not a valid decimal` };
  }
  if (isLosslessNumber(v)) {
    if (!DECIMAL_TEXT.test(v.value)) return { kind: 'primitiveFormat', message: `${abbreviate(v.value)} is not a valid decimal` };
    if (!fitsPostgresNumeric(v.value)) {
      return {
        kind: 'primitiveFormat',
        message: `${abbreviate(v.value)} is out of the supported decimal range (at most ${NUMERIC_MAX_INTEGER_DIGITS} digits before the decimal point and ${NUMERIC_MAX_SCALE} after it)`,
      };
    }
    return undefined;
  }
  return wrongType('a JSON number (decimal)', v);
};

const booleanCheck: PrimitiveCheck = (v) => (typeof v === 'boolean' ? undefined : wrongType('a JSON boolean', v));

/**
 * `Reference.reference`: a string whose path does not climb (`../Patient/x`, `Patient/./x`):
 * resolved against the server's base such a reference points somewhere other than it says.
 */
export const REFERENCE_STRING = 'Reference.reference';
const referenceCheck: PrimitiveCheck = (v) => {
  const problem = checkString(v, 'string');
  if (problem) return problem;
  const path = (v as string).split(/[?#]/, 1)[0];
  for (const segment of path.split('/')) {
    const decoded = segment.replace(/%2e/gi, '.');
    if (decoded === '.' || decoded === '..') {
      return { kind: 'primitiveFormat', message: `${JSON.stringify(abbreviate(v as string))} is not a valid reference: '.' and '..' path segments are not allowed` };
    }
  }
  return undefined;
};

const CHECKS = new Map<string, PrimitiveCheck>();

/** The check for an R4 primitive type; unknown names are treated as string. */
export function primitiveCheck(type: string): PrimitiveCheck {
  let check = CHECKS.get(type);
  if (!check) {
    switch (type) {
      case 'boolean':
        check = booleanCheck;
        break;
      case 'decimal':
        check = decimalCheck;
        break;
      case 'integer':
        check = integerCheck(type, INT32_MIN);
        break;
      case 'unsignedInt':
        check = integerCheck(type, 0);
        break;
      case 'positiveInt':
        check = integerCheck(type, 1);
        break;
      case REFERENCE_STRING:
        check = referenceCheck;
        break;
      default:
        check = stringCheck(type);
    }
    CHECKS.set(type, check);
  }
  return check;
}
