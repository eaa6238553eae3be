import { PRESCRIPTION_CODES } from '../domain/prescription/errors';
import { isValidPrescriptionNumber, PRESCRIPTION_NUMBER_SYSTEM } from '../domain/prescription/prescription-number';
import { FhirError } from '../errors/fhir-error';
import { schemeForSystem, schemesByName } from '../shared/national-id';
import type { FhirContext } from './context';

/**
 * Search criteria naming a national identifier (`identifier=http://opennhis.org/fhir/sid/bg-egn|…`,
 * chained `subject:Patient.identifier=…`, `_has…identifier=…`) get the same checksum check as
 * writes: a mistyped national id is a 400 naming the parameter, not an empty result that a
 * pharmacist reads as "no prescriptions". A prescription number (`RX-YY-NNNNNNNN-C`) gets its
 * format and Luhn check digit checked the same way.
 */
export function assertNationalIdCriteria(ctx: Pick<FhirContext, 'config'>, query: URLSearchParams): void {
  const schemes = schemesByName(ctx.config.nationalIdSchemes);
  for (const [name, raw] of query) {
    for (const value of raw.split(',')) {
      const bar = value.indexOf('|');
      if (bar <= 0) continue;
      if (value.slice(0, bar) === PRESCRIPTION_NUMBER_SYSTEM) {
        if (!isValidPrescriptionNumber(value.slice(bar + 1))) {
          throw FhirError.badRequest(`Invalid prescription number in ${name}: not RX-YY-NNNNNNNN-C with a valid check digit`, {
            code: PRESCRIPTION_CODES.numberInvalid,
            expression: [name],
          });
        }
        continue;
      }
      const scheme = schemeForSystem(schemes, value.slice(0, bar));
      if (!scheme) continue;
      const id = value.slice(bar + 1);
      const check = scheme.check(id);
      if (!check.valid) {
        throw FhirError.badRequest(`Invalid ${scheme.description} in ${name}: ${check.reason}`, { code: 'NHIS-3001', expression: [name] });
      }
    }
  }
}
