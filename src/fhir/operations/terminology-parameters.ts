import type { Coding, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { FhirError } from '../../errors/fhir-error';
import type { FhirRequest } from '../request';

/**
 * Input of the terminology operations: query parameters on GET, a Parameters
 * resource on POST (https://hl7.org/fhir/R4/operations.html#request). Errors
 * name the parameter (`url`, or `Parameters.parameter[i]`) and carry NHIS-22xx codes.
 */
export const TERMINOLOGY_CODES = {
  missingParameter: 'NHIS-2201',
  unknownValueSet: 'NHIS-2202',
  unknownCodeSystem: 'NHIS-2203',
  notEnumerable: 'NHIS-2204',
  badParameter: 'NHIS-2205',
} as const;

export interface TerminologyInput {
  string(name: string): string | undefined;
  coding(name: string): Coding | undefined;
  codeableConcept(name: string): { coding?: Coding[] } | undefined;
  /** Where a parameter came from, for issue expressions. */
  where(name: string): string;
}

export function readTerminologyInput(req: FhirRequest): TerminologyInput {
  if (req.method === 'GET') {
    return {
      string: (name) => req.query.get(name) ?? undefined,
      coding: (name) => {
        // GET carries a Coding as system|code (token form).
        const raw = req.query.get(name);
        if (!raw) return undefined;
        const bar = raw.indexOf('|');
        return bar < 0 ? { code: raw } : { system: raw.slice(0, bar) || undefined, code: raw.slice(bar + 1) };
      },
      codeableConcept: () => undefined,
      where: (name) => name,
    };
  }
  const p = req.body as Parameters | undefined;
  if (!p || typeof p !== 'object' || p.resourceType !== 'Parameters') {
    throw FhirError.badRequest('The body must be a Parameters resource', { code: TERMINOLOGY_CODES.badParameter, expression: ['Parameters'] });
  }
  const list: ParametersParameter[] = Array.isArray(p.parameter) ? p.parameter : [];
  const find = (name: string): { index: number; param: ParametersParameter } | undefined => {
    const index = list.findIndex((x) => x?.name === name);
    return index < 0 ? undefined : { index, param: list[index] };
  };
  return {
    string: (name) => {
      const found = find(name);
      if (!found) return undefined;
      const { param } = found;
      const value = param.valueUri ?? param.valueCode ?? param.valueString ?? param.valueCanonical ?? param.valueUrl;
      if (typeof value !== 'string') {
        throw FhirError.badRequest(`Parameter '${name}' must have a string value (valueUri, valueCode or valueString)`, {
          code: TERMINOLOGY_CODES.badParameter,
          expression: [`Parameters.parameter[${found.index}]`],
        });
      }
      return value;
    },
    coding: (name) => find(name)?.param.valueCoding,
    codeableConcept: (name) => find(name)?.param.valueCodeableConcept,
    where: (name) => {
      const found = find(name);
      return found ? `Parameters.parameter[${found.index}]` : `Parameters.parameter.where(name = '${name}')`;
    },
  };
}

export function requireString(input: TerminologyInput, name: string): string {
  const value = input.string(name);
  if (!value) throw FhirError.badRequest(`Parameter '${name}' is required`, { code: TERMINOLOGY_CODES.missingParameter, expression: [input.where(name)] });
  return value;
}

export function integerInput(input: TerminologyInput, name: string, fallback: number, max: number): number {
  const raw = input.string(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw FhirError.badRequest(`Parameter '${name}' must be an integer from 0 to ${max}`, { code: TERMINOLOGY_CODES.badParameter, expression: [input.where(name)] });
  }
  return n;
}
