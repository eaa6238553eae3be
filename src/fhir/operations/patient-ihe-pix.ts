// Patient/$ihe-pix — IHE PIXm ITI-83 (https://profiles.ihe.net/ITI/PIXm/ITI-83.html):
// the identifiers one patient holds in other systems, looked up by one of them.
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { FhirError } from '../../errors/fhir-error';
import { schemeForSystem, schemesByName } from '../../shared/national-id';
import { scopeOf } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { findActivePatients } from './patient-lookup';

export async function patientIhePix(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const raw = req.query.getAll('sourceIdentifier');
  if (raw.length !== 1) {
    throw FhirError.badRequest('Exactly one sourceIdentifier=system|value is required', { code: 'NHIS-3120', expression: ['sourceIdentifier'] });
  }
  const bar = raw[0].indexOf('|');
  const system = bar > 0 ? raw[0].slice(0, bar) : '';
  const value = bar > 0 ? raw[0].slice(bar + 1) : '';
  if (!system || !value) {
    throw FhirError.badRequest('sourceIdentifier must be system|value with both parts', { code: 'NHIS-3120', expression: ['sourceIdentifier'] });
  }
  const scheme = schemeForSystem(schemesByName(ctx.config.nationalIdSchemes), system);
  if (scheme) {
    const check = scheme.check(value);
    if (!check.valid) {
      throw FhirError.badRequest(`Invalid ${scheme.description} '${value}': ${check.reason}`, { code: 'NHIS-3001', expression: ['sourceIdentifier'] });
    }
  }
  const targetSystems = req.query.getAll('targetSystem').flatMap((t) => t.split(',')).filter(Boolean);

  const found = await findActivePatients(ctx.db, scopeOf(ctx, req), new URLSearchParams({ identifier: `${system}|${value}` }), 5);
  if (found.length === 0) {
    throw FhirError.notFound(`No active Patient holds ${system}|${value}`, { code: 'NHIS-3121', expression: ['sourceIdentifier'] });
  }
  if (found.length > 1) {
    throw FhirError.conflict(`${system}|${value} is held by more than one active Patient`, { code: 'NHIS-3122', expression: ['sourceIdentifier'] });
  }
  const patient = found[0];
  const parameter: ParametersParameter[] = [];
  for (const id of patient.identifier ?? []) {
    if (!id.system || !id.value || (id.system === system && id.value === value)) continue;
    if (targetSystems.length > 0 && !targetSystems.includes(id.system)) continue;
    parameter.push({ name: 'targetIdentifier', valueIdentifier: { ...(id.use ? { use: id.use } : {}), system: id.system, value: id.value } });
  }
  parameter.push({ name: 'targetId', valueReference: { reference: `Patient/${patient.id}` } });
  return { status: 200, body: { resourceType: 'Parameters', parameter } satisfies Parameters };
}
