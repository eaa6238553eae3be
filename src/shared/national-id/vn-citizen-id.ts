import { NationalIdScheme } from './types';

/** Province and centrally-run city codes used in the first three digits. */
const PROVINCES = new Set([
  '001', '002', '004', '006', '008', '010', '011', '012', '014', '015', '017', '019', '020', '022', '024', '025', '026', '027',
  '030', '031', '033', '034', '035', '036', '037', '038', '040', '042', '044', '045', '046', '048', '049', '051', '052', '054',
  '056', '058', '060', '062', '064', '066', '067', '068', '070', '072', '074', '075', '077', '079', '080', '082', '083', '084',
  '086', '087', '089', '091', '092', '093', '094', '095', '096',
]);

/** Century-and-gender digit → [century start, gender]. */
const CENTURY: Record<string, [number, 'male' | 'female']> = {
  '0': [1900, 'male'], '1': [1900, 'female'], '2': [2000, 'male'], '3': [2000, 'female'],
  '4': [2100, 'male'], '5': [2100, 'female'], '6': [2200, 'male'], '7': [2200, 'female'],
  '8': [1800, 'male'], '9': [1800, 'female'],
};

/**
 * Vietnamese citizen identity number (CCCD): province code (3) + century/gender
 * (1) + year of birth (2) + sequence (6). It has no check digit, so the checks
 * are the province code and a birth year that is not in the future.
 */
export function createVnCitizenId(now: () => Date = () => new Date()): NationalIdScheme {
  return {
    name: 'vn-cccd',
    system: 'http://opennhis.org/fhir/sid/vn-cccd',
    description: 'Vietnamese citizen identity number (CCCD)',
    check(value) {
      if (!/^\d{12}$/.test(value)) return { valid: false, reason: 'a citizen identity number is exactly 12 digits' };
      if (!PROVINCES.has(value.slice(0, 3))) return { valid: false, reason: `province code ${value.slice(0, 3)} does not exist` };
      const [century, gender] = CENTURY[value[3]];
      const year = century + Number(value.slice(4, 6));
      if (year > now().getUTCFullYear()) return { valid: false, reason: 'the birth year encoded in the number is in the future' };
      return { valid: true, gender };
    },
  };
}

export const vnCitizenId = createVnCitizenId();
