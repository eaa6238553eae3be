import { FhirError, type Issue } from '../../errors/fhir-error';
import { isResourceType } from '../../shared/resource-types';
import { FHIR_ID } from '../../shared/ids';
import { parseCriteria, parseIfMatch } from '../preconditions';
import type { ResourceBody } from '../../store/resource-body';
import type { CheckedResource } from '../../store/write/write-resources';

/**
 * What one Bundle entry asks for, parsed from `entry.request`
 * (https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.entry.request).
 */
export type EntryAction =
  | { kind: 'create'; type: string; resource: ResourceBody; ifNoneExist?: URLSearchParams }
  | { kind: 'update'; type: string; id: string; resource: ResourceBody; ifMatch?: number }
  | { kind: 'conditional-update'; type: string; criteria: URLSearchParams; resource: ResourceBody; ifMatch?: number }
  | { kind: 'delete'; type: string; id: string; ifMatch?: number }
  | { kind: 'conditional-delete'; type: string; criteria: URLSearchParams }
  | { kind: 'read'; type: string; id: string }
  | { kind: 'vread'; type: string; id: string; vid: string }
  | { kind: 'search'; type: string; query: URLSearchParams };

export interface PlannedEntry {
  index: number;
  fullUrl?: string;
  action: EntryAction;
  /** The entry's resource once the validator passed it (set by the planner for writes). */
  checked?: CheckedResource;
}

/** Processing order of a transaction: https://hl7.org/fhir/R4/http.html#trules */
export function processingRank(action: EntryAction): number {
  switch (action.kind) {
    case 'delete':
    case 'conditional-delete':
      return 0;
    case 'create':
      return 1;
    case 'update':
    case 'conditional-update':
      return 2;
    default:
      return 3;
  }
}

export function isWrite(action: EntryAction): boolean {
  return processingRank(action) < 3;
}

export function entryPath(index: number): string {
  return `Bundle.entry[${index}]`;
}

/** Text that names an entry in diagnostics: its index and fullUrl. */
export function describeEntry(index: number, fullUrl?: string): string {
  return fullUrl ? `entry[${index}] (fullUrl ${fullUrl})` : `entry[${index}]`;
}

function fail(index: number, message: string, element: string, code = 'NHIS-1600'): FhirError {
  return FhirError.badRequest(message, { code, expression: [`${entryPath(index)}.${element}`] });
}

/** `http://base/Patient/1` or `/Patient/1` → `Patient/1`. */
function relativeUrl(url: string, baseUrl: string): string {
  if (url.startsWith(`${baseUrl}/`)) return url.slice(baseUrl.length + 1);
  return url.replace(/^\/+/, '');
}

/** Parses one entry; throws a FhirError whose issues name the entry's elements. */
export function planEntry(raw: unknown, index: number, baseUrl: string): PlannedEntry {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw fail(index, 'An entry must be an object', 'request');
  const entry = raw as { fullUrl?: unknown; resource?: unknown; request?: Record<string, unknown> };
  const fullUrl = typeof entry.fullUrl === 'string' ? entry.fullUrl : undefined;
  const request = entry.request;
  if (!request || typeof request !== 'object') throw fail(index, 'Every entry of a transaction or batch needs request.method and request.url', 'request');
  const method = typeof request.method === 'string' ? request.method.toUpperCase() : '';
  if (typeof request.url !== 'string' || request.url.trim() === '') throw fail(index, 'request.url is required', 'request.url');
  const url = relativeUrl(request.url.trim(), baseUrl);
  const [pathPart, queryPart] = splitQuery(url);
  const segments = pathPart.split('/').filter(Boolean);
  const type = segments[0] ?? '';
  if (!isResourceType(type)) {
    throw FhirError.badRequest(`request.url '${request.url}' does not start with a known resource type`, {
      code: 'NHIS-1601',
      expression: [`${entryPath(index)}.request.url`],
    });
  }
  const ifMatch = () => {
    try {
      return parseIfMatch(typeof request.ifMatch === 'string' ? request.ifMatch : undefined);
    } catch (err) {
      throw fail(index, (err as Error).message, 'request.ifMatch', 'NHIS-1010');
    }
  };
  const criteria = () => {
    try {
      return parseCriteria(queryPart ?? '');
    } catch (err) {
      throw fail(index, (err as Error).message, 'request.url', 'NHIS-1011');
    }
  };
  const id = (raw: string | undefined) => {
    if (!raw || !FHIR_ID.test(raw)) throw fail(index, `'${raw ?? ''}' in request.url is not a valid FHIR id`, 'request.url', 'NHIS-1005');
    return raw;
  };
  const resource = () => requireEntryResource(entry.resource, type, index);
  const unsupported = () =>
    FhirError.of(405, 'not-supported', `${method} ${request.url} is not supported in a Bundle entry`, {
      code: 'NHIS-1602',
      expression: [`${entryPath(index)}.request`],
    });

  switch (method) {
    case 'POST': {
      if (segments.length !== 1 || queryPart !== undefined) throw unsupported();
      const ifNoneExist = typeof request.ifNoneExist === 'string' ? request.ifNoneExist : undefined;
      let conditional: URLSearchParams | undefined;
      if (ifNoneExist !== undefined) {
        try {
          conditional = parseCriteria(ifNoneExist);
        } catch (err) {
          throw fail(index, (err as Error).message, 'request.ifNoneExist', 'NHIS-1011');
        }
      }
      return { index, fullUrl, action: { kind: 'create', type, resource: resource(), ifNoneExist: conditional } };
    }
    case 'PUT': {
      if (segments.length === 1 && queryPart !== undefined) {
        return { index, fullUrl, action: { kind: 'conditional-update', type, criteria: criteria(), resource: resource(), ifMatch: ifMatch() } };
      }
      if (segments.length !== 2) throw unsupported();
      const resourceId = id(segments[1]);
      const body = resource();
      if (body.id !== resourceId) {
        throw FhirError.badRequest(`The resource id '${String(body.id ?? '')}' does not match request.url '${request.url}'`, {
          code: 'NHIS-1008',
          expression: [`${entryPath(index)}.resource.id`],
        });
      }
      return { index, fullUrl, action: { kind: 'update', type, id: resourceId, resource: body, ifMatch: ifMatch() } };
    }
    case 'DELETE':
      if (segments.length === 1 && queryPart !== undefined) return { index, fullUrl, action: { kind: 'conditional-delete', type, criteria: criteria() } };
      if (segments.length !== 2) throw unsupported();
      return { index, fullUrl, action: { kind: 'delete', type, id: id(segments[1]), ifMatch: ifMatch() } };
    case 'GET':
    case 'HEAD':
      if (segments.length === 1) return { index, fullUrl, action: { kind: 'search', type, query: new URLSearchParams(queryPart ?? '') } };
      if (segments.length === 2 && queryPart === undefined) return { index, fullUrl, action: { kind: 'read', type, id: id(segments[1]) } };
      if (segments.length === 4 && segments[2] === '_history' && queryPart === undefined) {
        return { index, fullUrl, action: { kind: 'vread', type, id: id(segments[1]), vid: segments[3] } };
      }
      throw unsupported();
    default:
      throw unsupported();
  }
}

function splitQuery(url: string): [string, string | undefined] {
  const q = url.indexOf('?');
  return q < 0 ? [url, undefined] : [url.slice(0, q), url.slice(q + 1)];
}

function requireEntryResource(body: unknown, type: string, index: number): ResourceBody {
  const where = `${entryPath(index)}.resource`;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw FhirError.badRequest('This entry needs a resource', { code: 'NHIS-1002', expression: [where] });
  }
  const resource = body as ResourceBody;
  if (resource.resourceType !== type) {
    throw FhirError.badRequest(`The entry's resource is a ${String(resource.resourceType)} but request.url names ${type}`, {
      code: 'NHIS-1004',
      expression: [`${where}.resourceType`],
    });
  }
  return resource;
}

/**
 * Issues of an error, re-addressed to one entry: diagnostics name the entry and
 * its fullUrl; an expression that is not already rooted at the Bundle becomes
 * `where` (default: the entry itself).
 */
export function issuesForEntry(err: FhirError, index: number, fullUrl?: string, where?: string): Issue[] {
  return err.issues.map((issue) => {
    const rooted = issue.expression?.filter((e) => e.startsWith('Bundle.')) ?? [];
    // `Observation.subject` from a write rule becomes `Bundle.entry[i].resource.subject`.
    const inResource = (issue.expression ?? [])
      .filter((e) => /^[A-Z][A-Za-z]+\./.test(e) && !e.startsWith('Bundle.'))
      .map((e) => `${entryPath(index)}.resource.${e.slice(e.indexOf('.') + 1)}`);
    return {
      ...issue,
      diagnostics: `${describeEntry(index, fullUrl)}: ${issue.diagnostics}`,
      expression: rooted.length ? rooted : where ? [where] : inResource.length ? inResource : [entryPath(index)],
    };
  });
}
