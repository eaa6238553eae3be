import { isoDate, isRealDate, NationalIdScheme } from './types';

/**
 * Czech rodné číslo: YYMMDD then 3 digits (before 1954) or 4 digits with the
 * whole number divisible by 11 (numbers from before 1985 may instead have a
 * remainder of 10 on the first nine digits with check digit 0). Women's months
 * are +50; since 2004 a further +20 is allowed when a day's numbers run out.
 * An optional slash after the date is accepted.
 */
export const czRodneCislo: NationalIdScheme = {
  name: 'cz-rc',
  system: 'http://opennhis.org/fhir/sid/cz-rc',
  description: 'Czech birth number (rodné číslo)',
  check(raw) {
    const value = raw.replace('/', '');
    if (!/^\d{9,10}$/.test(value) || (raw.includes('/') && !/^\d{6}\/\d{3,4}$/.test(raw))) {
      return { valid: false, reason: 'a rodné číslo is 9 or 10 digits, optionally YYMMDD/XXXX' };
    }
    const yy = Number(value.slice(0, 2));
    let month = Number(value.slice(2, 4));
    const day = Number(value.slice(4, 6));
    let year: number;
    if (value.length === 9) {
      if (yy >= 54) return { valid: false, reason: 'a 9-digit rodné číslo belongs to someone born before 1954' };
      year = 1900 + yy;
    } else {
      year = yy < 54 ? 2000 + yy : 1900 + yy;
      const n = BigInt(value);
      const first9 = Number(value.slice(0, 9));
      const ok = n % 11n === 0n || (first9 % 11 === 10 && value[9] === '0' && year < 1985);
      if (!ok) return { valid: false, reason: 'the rodné číslo is not divisible by 11' };
    }
    let gender: 'male' | 'female' = 'male';
    if (month > 50) {
      gender = 'female';
      month -= 50;
    }
    if (month > 20 && year >= 2004) month -= 20;
    if (!isRealDate(year, month, day)) return { valid: false, reason: 'the birth date encoded in the rodné číslo does not exist' };
    return { valid: true, birthDate: isoDate(year, month, day), gender };
  },
};
