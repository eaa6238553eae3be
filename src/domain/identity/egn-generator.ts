/**
 * Builds a valid Bulgarian EGN for a birth date and gender (synthetic data:
 * the Synthea converter, the demo seed, tests). `serial` (0..499) picks the
 * region/sequence digits, so one date and gender yield up to 500 distinct numbers.
 */
const WEIGHTS = [2, 4, 8, 5, 10, 9, 7, 3, 6];

export function generateEgn(birthDate: string, gender: 'male' | 'female', serial = 0): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(birthDate);
  if (!m) throw new Error(`generateEgn: '${birthDate}' is not a YYYY-MM-DD date`);
  const year = Number(m[1]);
  if (year < 1800 || year > 2099) throw new Error(`generateEgn: year ${year} is outside 1800-2099`);
  const month = Number(m[2]) + (year >= 2000 ? 40 : year < 1900 ? 20 : 0);
  const s = ((serial % 500) + 500) % 500;
  // Digits 7-9: the ninth is even for men, odd for women.
  const seq = s * 2 + (gender === 'female' ? 1 : 0);
  const body = `${String(year % 100).padStart(2, '0')}${String(month).padStart(2, '0')}${m[3]}${String(seq).padStart(3, '0')}`;
  const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(body[i]), 0);
  return `${body}${sum % 11 === 10 ? 0 : sum % 11}`;
}
