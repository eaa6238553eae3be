/**
 * FHIR date, dateTime and instant values as half-open instant ranges
 * [low, high) given by their precision (https://hl7.org/fhir/R4/search.html#date):
 * `1970` is [1970-01-01T00:00:00Z, 1971-01-01T00:00:00Z). A value without a time
 * zone is read as UTC (the spec leaves it to the server; we document UTC).
 */
export interface InstantRange {
  /** Milliseconds since the epoch. */
  low: number;
  high: number;
}

const DATE_PATTERN =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo, d);
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}

function daysInMonth(y: number, m: number): number {
  return new Date(utc(y, m + 1, 0)).getUTCDate();
}

/** Undefined when `text` is not a valid FHIR date/dateTime/instant. */
export function parseDateRange(text: string): InstantRange | undefined {
  const m = DATE_PATTERN.exec(text);
  if (!m) return undefined;
  const y = Number(m[1]);
  if (y < 1) return undefined;
  if (m[2] === undefined) return { low: utc(y, 0, 1), high: utc(y + 1, 0, 1) };
  const mo = Number(m[2]) - 1;
  if (mo < 0 || mo > 11) return undefined;
  if (m[3] === undefined) return { low: utc(y, mo, 1), high: utc(y, mo + 1, 1) };
  const d = Number(m[3]);
  if (d < 1 || d > daysInMonth(y, mo)) return undefined;
  if (m[4] === undefined) return { low: utc(y, mo, d), high: utc(y, mo, d + 1) };
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (h > 23 || mi > 59 || s > 60) return undefined;
  let offsetMs = 0;
  const tz = m[8];
  if (tz && tz !== 'Z') {
    const oh = Number(tz.slice(1, 3));
    const om = Number(tz.slice(4, 6));
    if (oh > 14 || om > 59) return undefined;
    offsetMs = (tz[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60000;
  }
  const frac = m[7];
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  const low = utc(y, mo, d, h, mi, Math.min(s, 59), ms) - offsetMs;
  const step = m[6] === undefined ? 60000 : frac ? Math.max(1, 10 ** (3 - frac.length)) : 1000;
  return { low, high: low + step };
}

/** Inclusive earliest/latest instants PostgreSQL is asked about; outside this is ±infinity. */
const YEAR_10000 = utc(10000, 0, 1);
export function toSqlInstant(ms: number): string {
  if (ms >= YEAR_10000) return 'infinity';
  return new Date(ms).toISOString();
}
