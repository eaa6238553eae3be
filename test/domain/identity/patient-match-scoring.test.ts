// Patient matching arithmetic (issue 5 §3): name folding, fuzzy comparison, grades.
import type { Patient } from '@medplum/fhirtypes';
import { foldName, jaroWinkler, levenshtein, nameSimilarity } from '../../../src/domain/identity/name-similarity';
import { compareBirthDates, scorePatientMatch } from '../../../src/domain/identity/patient-match';
import { generateEgn } from '../../../src/domain/identity/egn-generator';
import { bgEgn } from '../../../src/shared/national-id/bg-egn';
import { schemesByName } from '../../../src/shared/national-id';

const schemes = schemesByName(['bg-egn']);
const EGN = 'http://opennhis.org/fhir/sid/bg-egn';

test('folding drops accents and case and transliterates Bulgarian Cyrillic', () => {
  expect(foldName('  Ñúñez-García ')).toBe('nunez garcia');
  expect(foldName('Иванова')).toBe('ivanova');
  expect(foldName('Щерев')).toBe('shterev');
  expect(nameSimilarity('Иванова', 'IVANOVA')).toBe(1);
});

test('Jaro-Winkler and Levenshtein on textbook pairs', () => {
  expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.961, 3);
  expect(jaroWinkler('dixon', 'dicksonx')).toBeCloseTo(0.813, 3);
  expect(levenshtein('kitten', 'sitting')).toBe(3);
  expect(nameSimilarity('Petrov', 'Petorv')).toBeGreaterThan(0.85);
  expect(nameSimilarity('Petrov', 'Georgiev')).toBe(0);
});

test('birth dates: equal, one typo, day and month swapped, different', () => {
  expect(compareBirthDates('1980-04-12', '1980-04-12')).toBe(1);
  expect(compareBirthDates('1980-04-12', '1980-04-13')).toBe(0.5);
  expect(compareBirthDates('1980-04-12', '1980-12-04')).toBe(0.5);
  expect(compareBirthDates('1980-04-12', '1975-09-30')).toBe(0);
  expect(compareBirthDates(undefined, '1975-09-30')).toBeUndefined();
});

const base: Patient = { resourceType: 'Patient', name: [{ family: 'Ivanova', given: ['Maria'] }], gender: 'female', birthDate: '1980-04-12' };

test('grades: national id certain, conflicting national id certainly-not, demographics probable/possible', () => {
  const egn = generateEgn('1980-04-12', 'female', 7);
  const other = generateEgn('1980-04-12', 'female', 8);
  const stored: Patient = { ...base, identifier: [{ system: EGN, value: egn }] };
  expect(scorePatientMatch({ ...base, identifier: [{ system: EGN, value: egn }] }, stored, schemes).grade).toBe('certain');
  const conflict = scorePatientMatch({ ...base, identifier: [{ system: EGN, value: other }] }, stored, schemes);
  expect(conflict.grade).toBe('certainly-not');
  expect(conflict.demographic).toBeGreaterThan(0.8);
  expect(scorePatientMatch(base, stored, schemes).grade).toBe('probable');
  const swapped = scorePatientMatch({ ...base, name: [{ family: 'Maria', given: ['Ivanova'] }] }, stored, schemes);
  expect(swapped.grade).toBe('probable');
  expect(swapped.score).toBeLessThan(scorePatientMatch(base, stored, schemes).score);
  expect(scorePatientMatch({ ...base, birthDate: '1955-01-30' }, stored, schemes).grade).toBe('certainly-not');
});

test('generated EGNs are valid and encode the birth date and gender', () => {
  for (const [date, gender] of [['1875-03-16', 'male'], ['1980-02-29', 'female'], ['2024-12-31', 'male']] as const) {
    for (const serial of [0, 1, 123, 499]) {
      expect(bgEgn.check(generateEgn(date, gender, serial))).toEqual({ valid: true, birthDate: date, gender });
    }
  }
});
