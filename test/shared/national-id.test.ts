import { bgEgn } from '../../src/shared/national-id/bg-egn';
import { bgLnch } from '../../src/shared/national-id/bg-lnch';
import { czRodneCislo } from '../../src/shared/national-id/cz-rodne-cislo';
import { createVnCitizenId } from '../../src/shared/national-id/vn-citizen-id';
import { schemesByName } from '../../src/shared/national-id';

describe('Bulgarian EGN', () => {
  test.each([
    ['7523169263', '1875-03-16', 'male'],
    ['8032056031', '1880-12-05', 'female'],
    ['0041010002', '2000-01-01', 'male'],
    ['7501010010', '1975-01-01', 'female'],
  ])('%s is valid, born %s', (value, birthDate, gender) => {
    expect(bgEgn.check(value)).toEqual({ valid: true, birthDate, gender });
  });
  test.each([
    ['7523169264', /check digit/],
    ['752316926', /10 digits/],
    ['75231692a3', /10 digits/],
    ['7502300000', /does not exist/], // 30 February 1975
    ['0042290001', /does not exist/], // 29 February 2000 is real, 2001 below is not
    ['0142290000', /does not exist/],
  ])('%s is rejected', (value, reason) => {
    const r = bgEgn.check(value);
    if (value === '0042290001') {
      // 2000 was a leap year: the date is fine, the check digit decides.
      expect(r.valid ? '' : (r as { reason: string }).reason).not.toMatch(/does not exist/);
      return;
    }
    expect(r.valid).toBe(false);
    expect((r as { reason: string }).reason).toMatch(reason);
  });
});

describe('Bulgarian LNCh', () => {
  test('weights 21,19,17,13,11,9,7,3,1 mod 10', () => {
    expect(bgLnch.check('1001000004').valid).toBe(true);
    expect(bgLnch.check('1001000005').valid).toBe(false);
    expect(bgLnch.check('100100000').valid).toBe(false);
  });
});

describe('Czech rodné číslo', () => {
  test('valid numbers, with and without slash, men and women, 9 and 10 digits', () => {
    expect(czRodneCislo.check('7103192745')).toEqual({ valid: true, birthDate: '1971-03-19', gender: 'male' });
    expect(czRodneCislo.check('710319/2745')).toEqual({ valid: true, birthDate: '1971-03-19', gender: 'male' });
    expect(czRodneCislo.check('7353190009').valid).toBe(true);
    expect(czRodneCislo.check('7353190009')).toMatchObject({ gender: 'female', birthDate: '1973-03-19' });
    expect(czRodneCislo.check('0001010009')).toEqual({ valid: true, birthDate: '2000-01-01', gender: 'male' });
    expect(czRodneCislo.check('401231123')).toEqual({ valid: true, birthDate: '1940-12-31', gender: 'male' });
  });
  test('invalid numbers', () => {
    expect(czRodneCislo.check('7103192746').valid).toBe(false); // not divisible by 11
    expect(czRodneCislo.check('801231123').valid).toBe(false); // 9 digits after 1954
    expect(czRodneCislo.check('7102302745').valid).toBe(false);
    expect(czRodneCislo.check('71031/92745').valid).toBe(false);
  });
});

describe('Vietnamese citizen id', () => {
  const vn = createVnCitizenId(() => new Date('2026-11-23T00:00:00Z'));
  test('province code and century-gender digit', () => {
    expect(vn.check('001099012345')).toEqual({ valid: true, gender: 'male' });
    expect(vn.check('079305001234')).toEqual({ valid: true, gender: 'female' });
    expect(vn.check('003099012345').valid).toBe(false); // no province 003
    expect(vn.check('001227012345').valid).toBe(false); // born 2027
    expect(vn.check('00109901234').valid).toBe(false);
  });
});

test('schemes are chosen by name', () => {
  expect(schemesByName(['bg-egn', 'vn-cccd']).map((s) => s.name)).toEqual(['bg-egn', 'vn-cccd']);
  expect(() => schemesByName(['xx'])).toThrow(/Unknown national identifier scheme/);
});
