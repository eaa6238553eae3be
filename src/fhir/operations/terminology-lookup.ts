// CodeSystem/$lookup — https://hl7.org/fhir/R4/codesystem-operation-lookup.html
// system + code (or coding) → name, version, display, definition, designations, properties.
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { FhirError } from '../../errors/fhir-error';
import { lookupCode } from '../../validation/terminology';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { readTerminologyInput, TERMINOLOGY_CODES } from './terminology-parameters';

export async function codeSystemLookup(_ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const input = readTerminologyInput(req);
  const coding = input.coding('coding');
  const system = input.string('system') ?? coding?.system;
  const code = input.string('code') ?? coding?.code;
  if (!system || !code) {
    throw FhirError.badRequest('system and code (or coding) are required', {
      code: TERMINOLOGY_CODES.missingParameter,
      expression: [input.where(system ? 'code' : 'system')],
    });
  }
  const found = lookupCode(system, code);
  if (!found.found) {
    throw FhirError.notFound(found.reason, { code: TERMINOLOGY_CODES.unknownCodeSystem, expression: [input.where('code')] });
  }
  const { concept, codeSystem } = found;
  const parameter: ParametersParameter[] = [{ name: 'name', valueString: codeSystem.title ?? codeSystem.name ?? codeSystem.url }];
  if (codeSystem.version) parameter.push({ name: 'version', valueString: codeSystem.version });
  if (concept.display) parameter.push({ name: 'display', valueString: concept.display });
  if (concept.definition) parameter.push({ name: 'definition', valueString: concept.definition });
  for (const d of concept.designation ?? []) {
    parameter.push({
      name: 'designation',
      part: [
        ...(d.language ? [{ name: 'language', valueCode: d.language }] : []),
        ...(d.use ? [{ name: 'use', valueCoding: d.use }] : []),
        { name: 'value', valueString: d.value },
      ],
    });
  }
  if (concept.parent) parameter.push({ name: 'property', part: [{ name: 'code', valueCode: 'parent' }, { name: 'value', valueCode: concept.parent }] });
  for (const p of concept.property ?? []) {
    const value = Object.entries(p).find(([k]) => k.startsWith('value'));
    if (value) parameter.push({ name: 'property', part: [{ name: 'code', valueCode: p.code }, { name: 'value', [value[0]]: value[1] } as ParametersParameter] });
  }
  const body: Parameters = { resourceType: 'Parameters', parameter };
  return { status: 200, body };
}
