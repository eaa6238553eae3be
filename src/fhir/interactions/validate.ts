// https://hl7.org/fhir/R4/resource-operation-validate.html — validates without storing.
import type { Parameters } from '@medplum/fhirtypes';
import { outcomeOf } from '../../errors/operation-outcome';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { requireKnownType, requireResource } from '../../store/resource-body';

/** Accepts the resource itself or a Parameters with a `resource` parameter. */
function unwrap(body: unknown): unknown {
  const p = body as Parameters | undefined;
  if (p && typeof p === 'object' && p.resourceType === 'Parameters' && Array.isArray(p.parameter)) {
    const param = p.parameter.find((x) => x.name === 'resource');
    if (param?.resource) return param.resource;
  }
  return body;
}

export async function validateOperation(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const expectedType = req.params.type ? requireKnownType(req.params.type) : undefined;
  const resource = requireResource(unwrap(req.body), expectedType);
  const issues = ctx.validate(resource);
  // $validate answers 200 with the outcome either way; the outcome carries the verdict.
  const outcome = issues.length
    ? outcomeOf(issues)
    : outcomeOf([{ severity: 'information', code: 'informational', diagnostics: `${resource.resourceType} is valid` }]);
  return { status: 200, body: outcome };
}
