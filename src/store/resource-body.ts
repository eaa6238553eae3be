import { FhirError } from '../errors/fhir-error';
import { isResourceType } from '../shared/resource-types';
import { FHIR_ID } from '../shared/ids';

export type ResourceBody = { resourceType: string; id?: string; meta?: Record<string, unknown> } & Record<string, unknown>;

/** The request body must be a resource object of the expected type. */
export function requireResource(body: unknown, expectedType?: string): ResourceBody {
  if (body === undefined || body === null) throw FhirError.badRequest('A resource body is required', { code: 'NHIS-1002' });
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw FhirError.badRequest('The body must be a JSON object holding a FHIR resource', { code: 'NHIS-1002' });
  }
  const resource = body as ResourceBody;
  if (typeof resource.resourceType !== 'string') {
    throw FhirError.badRequest('The body has no resourceType', { code: 'NHIS-1003', expression: ['resourceType'] });
  }
  if (!isResourceType(resource.resourceType)) {
    throw FhirError.badRequest(`Unknown resourceType '${resource.resourceType}'`, { code: 'NHIS-1003', expression: ['resourceType'] });
  }
  if (expectedType && resource.resourceType !== expectedType) {
    throw FhirError.badRequest(`The body is a ${resource.resourceType} but the URL names ${expectedType}`, {
      code: 'NHIS-1004',
      expression: ['resourceType'],
    });
  }
  return resource;
}

/** 404 for an unknown type in the URL, as for any unknown resource. */
export function requireKnownType(type: string | undefined): string {
  if (!type || !isResourceType(type)) throw FhirError.notFound(`Unknown resource type '${type ?? ''}'`, { code: 'NHIS-1006' });
  return type;
}

export function requireValidId(id: string | undefined, where = 'id'): string {
  if (!id || !FHIR_ID.test(id)) throw FhirError.badRequest(`'${id ?? ''}' is not a valid FHIR id`, { code: 'NHIS-1005', expression: [where] });
  return id;
}

/** A resource with server-owned fields stamped, client meta (profile, tag, security) kept. */
export function stampResource(resource: ResourceBody, id: string, versionId: number, lastUpdated: Date): ResourceBody {
  const { resourceType, id: _ignored, meta, ...rest } = resource;
  const clientMeta = meta && typeof meta === 'object' ? { ...meta } : {};
  delete clientMeta.versionId;
  delete clientMeta.lastUpdated;
  return {
    resourceType,
    id,
    meta: { ...clientMeta, versionId: String(versionId), lastUpdated: lastUpdated.toISOString() },
    ...rest,
  };
}
