import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseJson } from '../../src/shared/json';
import { skippedInvariants, validateResource, warmValidation } from '../../src/validation';
import { setInvariantCrossCheck } from '../../src/validation/invariants';
import { KNOWN_INVALID_EXAMPLES } from './known-invalid-examples';

/**
 * Validates every example of the R4 specification (npm `hl7.fhir.r4.examples`).
 * Set VALIDATION_CROSSCHECK=1 to also compare the fast invariant evaluator with
 * fhirpath.js on every evaluation (slow).
 */

const dir = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'package.json' && f !== 'ig-r4.json')
  .sort();

jest.setTimeout(600_000);

test('every R4 example validates, except the known-invalid ones', () => {
  warmValidation();
  const mismatches = setInvariantCrossCheck(process.env.VALIDATION_CROSSCHECK === '1');
  const unexpected: string[] = [];
  const nowValid: string[] = [];
  let validated = 0;
  for (const file of files) {
    const resource = parseJson(readFileSync(join(dir, file), 'utf8'));
    // The vital-signs profiles apply by LOINC code, as R4 requires (the server does so when profiles are enforced).
    const issues = validateResource(resource, { vitalSignsByCode: true }).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    validated++;
    const known = file in KNOWN_INVALID_EXAMPLES;
    if (issues.length > 0 && !known) {
      unexpected.push(
        `${file}:\n${issues
          .slice(0, 5)
          .map((i) => `    ${i.nhisCode} ${i.expression?.join(', ')}: ${i.diagnostics}`)
          .join('\n')}`,
      );
    }
    if (issues.length === 0 && known) nowValid.push(file);
  }
  setInvariantCrossCheck(false);
  console.log(
    `validated ${validated} examples; ${Object.keys(KNOWN_INVALID_EXAMPLES).length} known invalid; ` +
      `skipped invariants: ${JSON.stringify(Object.fromEntries(skippedInvariants()))}` +
      (mismatches.length ? `\nfast/fhirpath.js mismatches: ${[...new Set(mismatches)].join('; ')}` : ''),
  );
  expect(validated).toBeGreaterThan(5000);
  expect(unexpected).toEqual([]);
  expect(nowValid).toEqual([]);
  expect(mismatches).toEqual([]);
});
