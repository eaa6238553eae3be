// ValueSet/$expand — https://hl7.org/fhir/R4/valueset-operation-expand.html
// For the shipped terminology (fhir-profiles/ and the enumerable R4 ValueSets); GET ?url= or POST Parameters.
import type { ValueSet } from '@medplum/fhirtypes';
import { FhirError } from '../../errors/fhir-error';
import { expandValueSet, findValueSet } from '../../validation/terminology';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { integerInput, readTerminologyInput, requireString, TERMINOLOGY_CODES } from './terminology-parameters';

const MAX_COUNT = 1000;

export async function valueSetExpand(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const input = readTerminologyInput(req);
  const url = requireString(input, 'url');
  const valueSet = findValueSet(url);
  if (!valueSet) throw FhirError.notFound(`ValueSet ${url} is not known`, { code: TERMINOLOGY_CODES.unknownValueSet, expression: [input.where('url')] });
  const expanded = expandValueSet(url);
  if (!expanded.ok) {
    throw FhirError.of(422, 'too-costly', `ValueSet ${url} cannot be expanded here: ${expanded.reason}`, { code: TERMINOLOGY_CODES.notEnumerable, expression: [input.where('url')] });
  }
  const filter = input.string('filter')?.toLowerCase();
  const offset = integerInput(input, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const count = integerInput(input, 'count', MAX_COUNT, MAX_COUNT);
  const matching = filter
    ? expanded.expansion.contains.filter((c) => c.code.toLowerCase().includes(filter) || (c.display ?? '').toLowerCase().includes(filter))
    : expanded.expansion.contains;
  const body: ValueSet = {
    resourceType: 'ValueSet',
    id: valueSet.id,
    url: valueSet.url,
    version: valueSet.version,
    name: valueSet.name,
    status: valueSet.status ?? 'active',
    expansion: {
      identifier: `urn:uuid:${ctx.ids.newId()}`,
      timestamp: ctx.clock.now().toISOString(),
      total: matching.length,
      offset,
      parameter: [
        ...(filter ? [{ name: 'filter', valueString: filter }] : []),
        { name: 'offset', valueInteger: offset },
        { name: 'count', valueInteger: count },
      ],
      contains: matching.slice(offset, offset + count).map((c) => ({ system: c.system, code: c.code, display: c.display })),
    },
  };
  return { status: 200, body };
}
