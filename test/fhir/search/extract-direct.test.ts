/**
 * The direct JSON walk of simple search parameter paths (`direct-path.ts`) must
 * index exactly what fhirpath.js does: every official R4 example is extracted
 * both ways and the rows compared (decimals compared as numbers: the walk keeps
 * the source text, fhirpath sees a JavaScript number).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractIndexRows } from '../../../src/store/search/extract-index';
import { searchParamsOf } from '../../../src/store/search/definitions';
import { parseJson } from '../../../src/shared/json';
import type { IndexRows } from '../../../src/repository/search-schema';

const DIR = join(__dirname, '../../../node_modules/hl7.fhir.r4.examples');
/** Where the walk is right and fhirpath.js is not. */
const KNOWN_DIFFERENT: Record<string, string> = {
  // fhirpath turns decimals into JS numbers: 1.0 and 1.00 collapse, 1.000000000000000000E-245 is lost from a union.
  'Observation-decimal.json': 'decimal precision',
  // fhirpath throws "Cannot convert a FHIR.Quantity that has a comparator" inside a union: combo-value-quantity loses its values.
  'Observation-f205.json': 'Quantity with comparator in a union',
};
/** All examples of these types, every 4th of the others (the comparison runs fhirpath on each). */
const COMMON = /^(Patient|Observation|Encounter|MedicationRequest|Condition|Procedure|DiagnosticReport|Immunization|AllergyIntolerance)-/;

function normalise(rows: IndexRows): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [table, list] of Object.entries(rows)) {
    out[table] = (list as Record<string, unknown>[])
      .map((r) => JSON.stringify(Object.entries(r).map(([k, v]) => [k, (table === 'number' || table === 'quantity') && k === 'value' ? Number(v) : v])))
      .sort();
  }
  return out;
}

test('most parameters of common types take the direct walk', () => {
  for (const type of ['Patient', 'Observation', 'Encounter', 'MedicationRequest', 'Condition']) {
    const defs = [...searchParamsOf(type).values()].filter((d) => d.evaluate);
    const walked = defs.filter((d) => d.walk);
    expect(walked.length / defs.length).toBeGreaterThan(0.8);
  }
  expect(searchParamsOf('Observation').get('patient')?.walk).toBeDefined();
  expect(searchParamsOf('Observation').get('code-value-quantity')?.walk).toBeDefined();
  expect(searchParamsOf('Patient').get('deceased')?.walk).toBeUndefined();
});

test('direct walk and fhirpath.js index every R4 example identically', () => {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.json') && /^[A-Z]/.test(f))
    .filter((f, i) => COMMON.test(f) || i % 4 === 0)
    .filter((f) => !(f in KNOWN_DIFFERENT));
  const mismatches: string[] = [];
  let compared = 0;
  for (const f of files) {
    let resource: { resourceType?: unknown } & Record<string, unknown>;
    try {
      resource = parseJson(readFileSync(join(DIR, f), 'utf8')) as typeof resource;
    } catch {
      continue;
    }
    if (typeof resource?.resourceType !== 'string') continue;
    const r = resource as { resourceType: string } & Record<string, unknown>;
    const walked = normalise(extractIndexRows(r));
    const evaluated = normalise(extractIndexRows(r, { fhirpathOnly: true }));
    compared++;
    if (JSON.stringify(walked) !== JSON.stringify(evaluated)) mismatches.push(f);
  }
  expect(compared).toBeGreaterThan(500);
  expect(mismatches).toEqual([]);
}, 120000);
