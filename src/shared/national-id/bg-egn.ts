import { digits, isoDate, isRealDate, NationalIdScheme } from './types';

const WEIGHTS = [2, 4, 8, 5, 10, 9, 7, 3, 6];

/**
 * Bulgarian ЕГН: YYMMDD + 3-digit region/sequence + check digit. The century
 * is carried in the month (+20 for the 1800s, +40 for the 2000s); the ninth
 * digit is even for men. Check digit: weighted sum mod 11, 10 counts as 0.
 */
export const bgEgn: NationalIdScheme = {
  name: 'bg-egn',
  system: 'http://opennhis.org/fhir/sid/bg-egn',
  description: 'Bulgarian unified civil number (EGN)',
  check(value) {
    if (!/^\d{10}$/.test(value)) return { valid: false, reason: 'an EGN is exactly 10 digits' };
    const d = digits(value);
    const yy = d[0] * 10 + d[1];
    let month = d[2] * 10 + d[3];
    const day = d[4] * 10 + d[5];
    let year = 1900 + yy;
    if (month > 40) {
      month -= 40;
      year = 2000 + yy;
    } else if (month > 20) {
      month -= 20;
      year = 1800 + yy;
    }
    if (!isRealDate(year, month, day)) return { valid: false, reason: 'the birth date encoded in the EGN does not exist' };
    const sum = WEIGHTS.reduce((acc, w, i) => acc + w * d[i], 0);
    const check = sum % 11 === 10 ? 0 : sum % 11;
    if (check !== d[9]) return { valid: false, reason: 'the EGN check digit is wrong' };
    return { valid: true, birthDate: isoDate(year, month, day), gender: d[8] % 2 === 0 ? 'male' : 'female' };
  },
};
