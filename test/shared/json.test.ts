import { parseJson, stringifyJson, toNumber } from '../../src/shared/json';
import { FhirError } from '../../src/errors/fhir-error';

test('round-trips numbers exactly as written', () => {
  for (const text of ['{"a":1.50}', '{"a":[0.10,100.000,-0.0,1e3,1E-7,12345678901234567890]}', '{"a":3.14,"b":"1.50"}', '{"a":{"b":[1,2.0]}}']) {
    expect(stringifyJson(parseJson(text))).toBe(text);
  }
});

test('plain numbers stay plain JS numbers', () => {
  const v = parseJson('{"a":1.5,"b":7}') as { a: unknown; b: unknown };
  expect(v.a).toBe(1.5);
  expect(v.b).toBe(7);
  const w = parseJson('{"a":1.50}') as { a: unknown };
  expect(toNumber(w.a)).toBe(1.5);
});

test('strings that look like numbers are untouched', () => {
  const text = '{"s":": 1.50,","n":1.50}';
  expect(stringifyJson(parseJson(text))).toBe(text);
});

test('malformed JSON names line and column', () => {
  try {
    parseJson('{\n "a": 1,\n "b": }');
    throw new Error('no error');
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).status).toBe(400);
    expect((err as FhirError).message).toMatch(/line 3, column 7/);
  }
});

test('number-like text inside strings does not matter; every number token outside them does', () => {
  for (const text of ['{"t":"2020-01-01T09:00:00Z","n":60}', '{"a":-0,"b":"T09:00:00Z","c":[0.5,-1.25e-7,1E400]}', '{"s":"\\"1.50\\"","n":[10,0,-3]}', '12345678901234567890']) {
    expect(stringifyJson(parseJson(text))).toBe(text);
  }
  // Plain integers parse as numbers whichever parser runs.
  expect(parseJson('{"t":"09:00","n":60}')).toEqual({ t: '09:00', n: 60 });
});
