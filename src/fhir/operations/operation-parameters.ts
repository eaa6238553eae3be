import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { FhirError } from '../../errors/fhir-error';
import { toNumber } from '../../shared/json';

/**
 * Reading the input Parameters of an operation
 * (https://hl7.org/fhir/R4/operations.html#request). Every error names the
 * parameter as `Parameters.parameter[i]` or, when absent, by its name.
 */
export interface InputParameters {
  find(name: string): { index: number; param: ParametersParameter } | undefined;
}

export function requireParameters(body: unknown): InputParameters {
  const p = body as Parameters | undefined;
  if (!p || typeof p !== 'object' || p.resourceType !== 'Parameters') {
    throw FhirError.badRequest('The body must be a Parameters resource', { code: 'NHIS-3100', expression: ['Parameters'] });
  }
  const list = Array.isArray(p.parameter) ? p.parameter : [];
  return {
    find(name) {
      const index = list.findIndex((x) => x?.name === name);
      return index < 0 ? undefined : { index, param: list[index] };
    },
  };
}

export function paramPath(index: number, element?: string): string {
  return `Parameters.parameter[${index}]${element ? `.${element}` : ''}`;
}

export function booleanParam(params: InputParameters, name: string): boolean | undefined {
  const found = params.find(name);
  if (!found) return undefined;
  if (typeof found.param.valueBoolean !== 'boolean') {
    throw FhirError.badRequest(`Parameter '${name}' must be a valueBoolean`, { code: 'NHIS-3101', expression: [paramPath(found.index, 'valueBoolean')] });
  }
  return found.param.valueBoolean;
}

export function integerParam(params: InputParameters, name: string, min: number, max: number): number | undefined {
  const found = params.find(name);
  if (!found) return undefined;
  const n = toNumber((found.param as { valueInteger?: unknown }).valueInteger);
  if (n === undefined || !Number.isInteger(n) || n < min || n > max) {
    throw FhirError.badRequest(`Parameter '${name}' must be a valueInteger from ${min} to ${max}`, {
      code: 'NHIS-3101',
      expression: [paramPath(found.index, 'valueInteger')],
    });
  }
  return n;
}
