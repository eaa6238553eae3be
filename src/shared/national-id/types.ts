/** What a national identifier check concludes. */
export type NationalIdResult =
  | { valid: true; birthDate?: string; gender?: 'male' | 'female' }
  | { valid: false; reason: string };

export interface NationalIdScheme {
  /** Short name used in configuration, e.g. `bg-egn`. */
  name: string;
  /** Identifier.system URI (its NamingSystem lives in fhir-profiles/). */
  system: string;
  description: string;
  check(value: string): NationalIdResult;
}

export function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

export function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function digits(value: string): number[] {
  return [...value].map(Number);
}
