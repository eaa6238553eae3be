// ValueSet/$validate-code — https://hl7.org/fhir/R4/valueset-operation-validate-code.html
// url + (code [+ system] | coding | codeableConcept) → result, message, display.
import type { Coding, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { FhirError } from '../../errors/fhir-error';
import { findValueSet, validateCodeInValueSet, type ValidateCodeResult } from '../../validation/terminology';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { readTerminologyInput, requireString, TERMINOLOGY_CODES } from './terminology-parameters';

export async function valueSetValidateCode(_ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const input = readTerminologyInput(req);
  const url = requireString(input, 'url');
  if (!findValueSet(url)) throw FhirError.notFound(`ValueSet ${url} is not known`, { code: TERMINOLOGY_CODES.unknownValueSet, expression: [input.where('url')] });
  const code = input.string('code');
  const codings: Coding[] = code
    ? [{ system: input.string('system'), code, display: input.string('display') }]
    : input.coding('coding')
      ? [input.coding('coding') as Coding]
      : (input.codeableConcept('codeableConcept')?.coding ?? []);
  if (codings.length === 0 || codings.some((c) => !c.code)) {
    throw FhirError.badRequest('code, coding or codeableConcept is required', { code: TERMINOLOGY_CODES.missingParameter, expression: [input.where('code')] });
  }
  // A CodeableConcept is valid when one of its codings is.
  let answer: ValidateCodeResult | undefined;
  for (const c of codings) {
    const r = validateCodeInValueSet(url, c.system, c.code as string, c.display);
    if ('error' in r) {
      throw FhirError.of(422, 'too-costly', `ValueSet ${url} cannot be checked here: ${r.error}`, { code: TERMINOLOGY_CODES.notEnumerable, expression: [input.where('url')] });
    }
    if (r.result || !answer) answer = r;
    if (r.result) break;
  }
  const parameter: ParametersParameter[] = [{ name: 'result', valueBoolean: answer!.result }];
  if (answer!.message) parameter.push({ name: 'message', valueString: answer!.message });
  if (answer!.display) parameter.push({ name: 'display', valueString: answer!.display });
  const body: Parameters = { resourceType: 'Parameters', parameter };
  return { status: 200, body };
}
