import { digits, NationalIdScheme } from './types';

const WEIGHTS = [21, 19, 17, 13, 11, 9, 7, 3, 1];

/** Bulgarian ЛНЧ (personal number of a foreigner): 10 digits, weighted sum mod 10. */
export const bgLnch: NationalIdScheme = {
  name: 'bg-lnch',
  system: 'http://opennhis.org/fhir/sid/bg-lnch',
  description: 'Bulgarian personal number of a foreigner (LNCh)',
  check(value) {
    if (!/^\d{10}$/.test(value)) return { valid: false, reason: 'an LNCh is exactly 10 digits' };
    const d = digits(value);
    const sum = WEIGHTS.reduce((acc, w, i) => acc + w * d[i], 0);
    if (sum % 10 !== d[9]) return { valid: false, reason: 'the LNCh check digit is wrong' };
    return { valid: true };
  },
};
