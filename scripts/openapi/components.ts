import { DEFAULT_COUNT, MAX_COUNT } from '../../src/store/search/parse-query';
import type { Header, Parameter, Ref, RequestBody, Response, Schema } from './types';

/**
 * The shared parts of the document: parameters, headers, error responses and
 * the schemas every resource type refers to. Per-type schemas and request
 * bodies are made in `document.ts`.
 */

export const FHIR_JSON = 'application/fhir+json';

export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http' as const,
    scheme: 'bearer' as const,
    bearerFormat: 'JWT',
    description:
      'An access token from `POST /auth/token` (SMART Backend Services, for registered systems), or a token of the national patient identity provider (citizens, `patient/*.rs`). Everything but the public routes needs one. Locally: `npm run -s token -- --role <role>`.',
  },
  smartBackendServices: {
    type: 'oauth2' as const,
    description:
      'How a registered system gets the bearer token: OAuth 2.0 client credentials ([SMART Backend Services](https://hl7.org/fhir/smart-app-launch/backend-services.html)) ' +
      'with **`private_key_jwt`** client authentication ([RFC 7523](https://www.rfc-editor.org/rfc/rfc7523)), never a client secret. The client registers a public key ' +
      '(`jwks` or `jwksUri`, `POST /admin/clients`), then sends `grant_type=client_credentials`, ' +
      '`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and a `client_assertion`: a JWT it signs (ES384 or RS384) with ' +
      '`iss` = `sub` = its client id, `aud` = the token endpoint URL, `exp` at most 5 minutes ahead and a unique `jti`. `examples/client-credentials.mjs` does it with `jose`. ' +
      'The answer is a bearer token for `scope` (SMART v2 `system/` scopes, at most the registered ones), valid `expires_in` seconds; ask again before it ends.',
    flows: {
      clientCredentials: {
        tokenUrl: '/auth/token',
        scopes: {
          'system/*.cruds': 'Every resource type: create, read, update, delete, search (hospitals, prescribers, laboratories)',
          'system/*.rs': 'Read and search everything the role allows',
          'system/MedicationRequest.rs': 'Read and search prescriptions (pharmacies)',
          'system/Task.rus': 'The prescription workflow operations on Tasks (pharmacies)',
          'system/MedicationDispense.c': 'Record dispenses (pharmacies)',
          'system/Patient.rs': 'Read and search the patient registry',
        },
      },
    },
  },
};
/** Request bodies may be sent as either; the server always answers `application/fhir+json`. */
export const REQUEST_MEDIA_TYPES = [FHIR_JSON, 'application/json'] as const;
export const NHIS_ERROR_SYSTEM = 'http://opennhis.org/fhir/CodeSystem/error-codes';

const string = (description?: string): Schema => (description ? { type: 'string', description } : { type: 'string' });

export const PARAMETERS = {
  id: {
    name: 'id',
    in: 'path',
    required: true,
    description: 'Logical id of the resource.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$' },
  },
  vid: {
    name: 'vid',
    in: 'path',
    required: true,
    description: 'Version id (`meta.versionId`), as in the `ETag` `W/"3"`.',
    schema: { type: 'string', pattern: '^[0-9]{1,9}$' },
  },
  jobId: {
    name: 'jobId',
    in: 'path',
    required: true,
    description: 'Id of the asynchronous request, from the `Content-Location` of its 202 answer.',
    schema: { type: 'string' },
  },
  compartmentType: {
    name: 'compartmentType',
    in: 'path',
    required: true,
    description: 'The resource type to search for inside the compartment, e.g. `Observation`.',
    schema: { type: 'string', pattern: '^[A-Z][A-Za-z]+$' },
  },
  RequestId: {
    name: 'X-Request-Id',
    in: 'header',
    description: 'Correlation id (1-128 of `A-Za-z0-9._-`), echoed in the response and written to the server log; the server makes one when absent or unsafe.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9._\\-]{1,128}$' },
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    description: 'Version-aware write ([concurrency](https://hl7.org/fhir/R4/http.html#concurrency)): the `ETag` of the version being replaced, e.g. `W/"3"`. Another current version answers 412.',
    schema: { type: 'string', examples: ['W/"3"'] },
  },
  IfNoneExist: {
    name: 'If-None-Exist',
    in: 'header',
    description:
      '[Conditional create](https://hl7.org/fhir/R4/http.html#ccreate): search criteria, e.g. `identifier=http://example.org/id|123`. One match: nothing is created and the match answers 200; several: 412.',
    schema: { type: 'string', examples: ['identifier=http://example.org/id|123'] },
  },
  PreferReturn: {
    name: 'Prefer',
    in: 'header',
    description: 'What a write returns: `return=representation` (the stored resource, default), `return=minimal` (no body) or `return=OperationOutcome`.',
    schema: { type: 'string', enum: ['return=representation', 'return=minimal', 'return=OperationOutcome'] },
  },
  PreferBundle: {
    name: 'Prefer',
    in: 'header',
    description:
      '`respond-async` queues the Bundle and answers 202 at once, with the status URL in `Content-Location` ([async](https://hl7.org/fhir/R4/async.html)); needed above the synchronous entry limit (5000 by default). `return=minimal|representation|OperationOutcome` shapes each entry\'s response.',
    schema: { type: 'string', examples: ['respond-async', 'return=minimal'] },
  },
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    description:
      'Makes a retry safe (1-255 visible ASCII characters, e.g. a UUID): for 24 hours the same key with the same request answers what the first one did (with `Idempotency-Replayed: true`) without doing it again; with a different request it answers 422, and while the first is still running 409.',
    schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
  },
  PreferHandling: {
    name: 'Prefer',
    in: 'header',
    description: '`handling=strict` answers 400 for an unknown or malformed search parameter; `handling=lenient` (default) ignores it.',
    schema: { type: 'string', enum: ['handling=lenient', 'handling=strict'] },
  },
  Criteria: {
    name: 'criteria',
    in: 'query',
    required: true,
    style: 'form',
    explode: true,
    description: 'Search criteria selecting the resource, with the search parameters of the type (as for its search), e.g. `identifier=http://example.org/id|123`.',
    schema: { type: 'object', minProperties: 1, additionalProperties: { type: 'string' } },
  },
  OperationParameters: {
    name: 'parameters',
    in: 'query',
    style: 'form',
    explode: true,
    description: 'The input parameters of the operation, by name.',
    schema: { type: 'object', additionalProperties: { type: 'string' } },
  },
  Count: {
    name: '_count',
    in: 'query',
    description: `Page size: default ${DEFAULT_COUNT}; more than ${MAX_COUNT} is taken as ${MAX_COUNT}.`,
    schema: { type: 'integer', minimum: 0 },
  },
  Sort: {
    name: '_sort',
    in: 'query',
    description: 'Comma-separated search parameters to sort by; `-` before one sorts descending, e.g. `-_lastUpdated,_id`.',
    schema: string(),
  },
  Include: {
    name: '_include',
    in: 'query',
    style: 'form',
    explode: true,
    description: 'Also return resources referenced by the matches: `SourceType:parameter[:TargetType]`. `_include:iterate` follows the included ones too.',
    schema: { type: 'array', items: { type: 'string' } },
  },
  Revinclude: {
    name: '_revinclude',
    in: 'query',
    style: 'form',
    explode: true,
    description: 'Also return resources that refer to the matches: `SourceType:parameter[:TargetType]`.',
    schema: { type: 'array', items: { type: 'string' } },
  },
  Total: {
    name: '_total',
    in: 'query',
    description: 'Whether `Bundle.total` is given: `accurate` (default), `estimate` or `none`.',
    schema: { type: 'string', enum: ['accurate', 'estimate', 'none'] },
  },
  Summary: {
    name: '_summary',
    in: 'query',
    description: 'Return a [summary](https://hl7.org/fhir/R4/search.html#summary) of each match; `count` returns only the total.',
    schema: { type: 'string', enum: ['true', 'false', 'text', 'data', 'count'] },
  },
  Elements: {
    name: '_elements',
    in: 'query',
    description: 'Comma-separated top-level elements to return, e.g. `identifier,name`; the result is marked SUBSETTED.',
    schema: string(),
  },
  Cursor: {
    name: '_cursor',
    in: 'query',
    description: 'Paging position; opaque: follow the `next` and `previous` links of the Bundle rather than building it.',
    schema: string(),
  },
  HistoryCount: {
    name: '_count',
    in: 'query',
    description: 'Page size: default 50; more than 1000 is taken as 1000.',
    schema: { type: 'integer', minimum: 0 },
  },
  Since: {
    name: '_since',
    in: 'query',
    description: 'Only versions created at or after this instant, e.g. `2024-01-31T12:00:00Z` (a date or a partial date also works).',
    schema: { type: 'string' },
  },
  At: {
    name: '_at',
    in: 'query',
    description: 'Only versions current at this instant, written as for `_since`.',
    schema: { type: 'string' },
  },
} satisfies Record<string, Parameter>;

export type ParameterName = keyof typeof PARAMETERS;

export const HEADERS = {
  RequestId: { description: 'The request correlation id: the `X-Request-Id` sent, or one the server made.', schema: string() },
  ETag: { description: 'Version of the resource, e.g. `W/"3"`; send it back in `If-Match`.', schema: string() },
  LastModified: { description: 'When this version was stored (`meta.lastUpdated`), as an HTTP date.', schema: string() },
  Location: { description: 'URL of the created version: `[base]/[type]/[id]/_history/[vid]`.', schema: { type: 'string', format: 'uri' } },
  ContentLocation: { description: 'URL of the stored version: `[base]/[type]/[id]/_history/[vid]`.', schema: { type: 'string', format: 'uri' } },
  RetryAfter: { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
  Redirect: { description: 'Where the page is.', schema: string() },
  WwwAuthenticate: { description: 'The bearer challenge; with `error` and `error_description` when a token was refused.', schema: string() },
  IdempotencyReplayed: { description: '`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.', schema: { type: 'string', enum: ['true'] } },
  AsyncStatus: { description: 'The status URL of the queued request: `[base]/_async/[jobId]`.', schema: { type: 'string', format: 'uri' } },
  Progress: { description: 'How far the request has got, e.g. `queued` or `running (attempt 1)`.', schema: string() },
} satisfies Record<string, Header>;

export type HeaderName = keyof typeof HEADERS;

export const paramRef = (name: ParameterName): Ref => ({ $ref: `#/components/parameters/${name}` });
export const headerRef = (name: HeaderName): Ref => ({ $ref: `#/components/headers/${name}` });
export const schemaRef = (name: string): Ref => ({ $ref: `#/components/schemas/${name}` });
export const requestBodyRef = (name: string): Ref => ({ $ref: `#/components/requestBodies/${name}` });
/** Responses made per resource type in `fhir-operations.ts`: `Patient`, `PatientCreated`, `PatientUpdated`. */
export const typeResponseRef = (type: string, kind: '' | 'Created' | 'Updated'): Ref => ({ $ref: `#/components/responses/${type}${kind}` });

/** `X-Request-Id` first, then the given headers. */
export function responseHeaders(...names: HeaderName[]): Record<string, Ref> {
  const out: Record<string, Ref> = { 'X-Request-Id': headerRef('RequestId') };
  const wire: Record<HeaderName, string> = {
    RequestId: 'X-Request-Id',
    ETag: 'ETag',
    LastModified: 'Last-Modified',
    Location: 'Location',
    ContentLocation: 'Content-Location',
    RetryAfter: 'Retry-After',
    Redirect: 'Location',
    WwwAuthenticate: 'WWW-Authenticate',
    IdempotencyReplayed: 'Idempotency-Replayed',
    AsyncStatus: 'Content-Location',
    Progress: 'X-Progress',
  };
  for (const name of names) out[wire[name]] = headerRef(name);
  return out;
}

function outcomeExample(severity: string, code: string, nhisCode: string, diagnostics: string, expression?: string[]): unknown {
  const issue: Record<string, unknown> = {
    severity,
    code,
    diagnostics,
    details: { coding: [{ system: NHIS_ERROR_SYSTEM, code: nhisCode }], text: diagnostics },
  };
  if (expression) issue.expression = expression;
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

function errorResponse(description: string, example: unknown, ...headers: HeaderName[]): Response {
  return {
    description,
    headers: responseHeaders(...headers),
    content: { [FHIR_JSON]: { schema: schemaRef('OperationOutcome'), example } },
  };
}

export const RESPONSES = {
  BadRequest: errorResponse(
    'Bad request: unparseable or structurally invalid (unknown element, wrong type, cardinality), or a malformed parameter. `issue.expression` names the element.',
    outcomeExample('error', 'invalid', 'NHIS-1005', "'a b' is not a valid FHIR id", ['id']),
  ),
  Unauthorized: errorResponse(
    'No access token, or one that is expired, malformed or not ours.',
    outcomeExample('error', 'login', 'NHIS-1401', 'Authentication failed: a bearer token is required'),
    'WwwAuthenticate',
  ),
  Forbidden: errorResponse(
    'The token does not allow this request (scope, role or patient compartment); the diagnostics name the rule that decided.',
    outcomeExample('error', 'forbidden', 'NHIS-1403', 'Access denied by rule scope-not-granted'),
  ),
  TooManyRequests: errorResponse(
    'The client is over its rate limit; retry after `Retry-After` seconds.',
    outcomeExample('error', 'throttled', 'NHIS-1429', 'Rate limit of 1200 requests per 60 s exceeded; retry later'),
    'RetryAfter',
  ),
  NotFound: errorResponse('Not found: no such resource (or version).', outcomeExample('error', 'not-found', 'NHIS-1404', 'Patient/example is not known')),
  Gone: errorResponse(
    'Gone: the resource (or this version) was deleted. Carries the `ETag` and `Last-Modified` of the deletion.',
    outcomeExample('error', 'deleted', 'NHIS-1410', 'Patient/example was deleted'),
    'ETag',
    'LastModified',
  ),
  Conflict: errorResponse('Conflict with a concurrent write; retry.', outcomeExample('error', 'conflict', 'NHIS-1409', 'The matching Patient was deleted meanwhile; retry')),
  PreconditionFailed: errorResponse(
    'Precondition failed: `If-Match` names another version, or the criteria matched more than one resource.',
    outcomeExample('error', 'conflict', 'NHIS-1412', 'Version conflict: If-Match W/"3" but Patient/example is at version 4'),
  ),
  PayloadTooLarge: errorResponse(
    'The request body exceeds the configured limit, or a Bundle has more entries than are processed at once (send it with `Prefer: respond-async`).', outcomeExample('error', 'too-costly', 'NHIS-1413', 'The request body exceeds the limit of 1048576 bytes')),
  UnsupportedMediaType: errorResponse(
    'Not JSON: XML (in `Content-Type`, `Accept` or `_format`) or another body type.',
    outcomeExample('error', 'not-supported', 'NHIS-1415', 'This server accepts FHIR JSON only; XML is not supported'),
  ),
  Unprocessable: errorResponse(
    'Unprocessable: a well-formed resource that breaks an invariant or business rule. `issue.expression` names the element.',
    outcomeExample('error', 'invariant', 'NHIS-1422', 'Patient.contact: SHALL at least contain a contact\'s details or a reference to an organization', ['Patient.contact[0]']),
  ),
  Error: errorResponse(
    'Any other error, as an OperationOutcome: 405 for a method the path does not allow (with `Allow`), 415 for XML, 429 with `Retry-After` over the rate limit, 500 with a correlation id, 503 with `Retry-After` when the database is unavailable.',
    outcomeExample('fatal', 'exception', 'NHIS-1500', 'Internal server error; correlation id 5b0c7e0e-6f5d-4a57-9a8e-1f0b1d3c2a10'),
    'RetryAfter',
  ),
} satisfies Record<string, Response>;

export type ResponseName = keyof typeof RESPONSES;
export const responseRef = (name: ResponseName): Ref => ({ $ref: `#/components/responses/${name}` });

/** `$validate` at system and type level. */
export const VALIDATION_BODY: RequestBody = {
  description: 'The resource to validate (of the type in the path, if any), or a Parameters holding it in `resource`.',
  required: true,
  content: Object.fromEntries(REQUEST_MEDIA_TYPES.map((m) => [m, { schema: { anyOf: [schemaRef('Resource'), schemaRef('Parameters')] } }])),
};

/** An operation's input: a Parameters, or for some operations the resource itself. */
export const OPERATION_INPUT: RequestBody = {
  description: 'The input of the operation: a Parameters resource, or the resource the operation works on.',
  required: true,
  content: Object.fromEntries(REQUEST_MEDIA_TYPES.map((m) => [m, { schema: { anyOf: [schemaRef('Parameters'), schemaRef('Resource')] } }])),
};

/** `POST [type]/_search`: the search parameters as a form. */
export const SEARCH_FORM: RequestBody = {
  description: 'The same parameters as the GET search, form-encoded.',
  required: false,
  content: {
    'application/x-www-form-urlencoded': {
      schema: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
};

const coding: Schema = {
  type: 'object',
  properties: { system: { type: 'string', format: 'uri' }, code: string(), display: string() },
};

export const SCHEMAS: Record<string, Schema> = {
  Meta: {
    type: 'object',
    description: 'Set by the server on every write: `versionId` and `lastUpdated`; `profile`, `tag` and `security` are kept as sent.',
    properties: {
      versionId: string(),
      lastUpdated: { type: 'string', format: 'date-time' },
      source: { type: 'string', format: 'uri' },
      profile: { type: 'array', items: { type: 'string', format: 'uri' } },
      security: { type: 'array', items: coding },
      tag: { type: 'array', items: coding },
    },
  },
  Resource: {
    type: 'object',
    description: 'A FHIR R4 resource in [JSON](https://hl7.org/fhir/R4/json.html). Its elements are those of its StructureDefinition; the server validates them on every write.',
    required: ['resourceType'],
    properties: {
      resourceType: string('The resource type.'),
      id: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$' },
      meta: schemaRef('Meta'),
    },
    additionalProperties: true,
  },
  OperationOutcome: {
    type: 'object',
    description:
      'Every error (4xx, 5xx) is an [OperationOutcome](https://hl7.org/fhir/R4/operationoutcome.html). Each issue has a stable code `NHIS-####` in `details.coding` (system `' +
      NHIS_ERROR_SYSTEM +
      '`) and, where it applies, the FHIRPath of the offending element in `expression`.',
    required: ['resourceType', 'issue'],
    properties: {
      resourceType: { const: 'OperationOutcome' },
      issue: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['severity', 'code'],
          properties: {
            severity: { type: 'string', enum: ['fatal', 'error', 'warning', 'information'] },
            code: string('Issue type, https://hl7.org/fhir/R4/valueset-issue-type.html'),
            details: {
              type: 'object',
              properties: { coding: { type: 'array', items: coding }, text: string() },
            },
            diagnostics: string(),
            expression: { type: 'array', items: string() },
          },
        },
      },
    },
  },
  Bundle: {
    type: 'object',
    description: 'A [Bundle](https://hl7.org/fhir/R4/bundle.html). Pages of results link to the next and previous page in `link`.',
    required: ['resourceType', 'type'],
    properties: {
      resourceType: { const: 'Bundle' },
      type: { type: 'string', enum: ['searchset', 'history', 'transaction', 'transaction-response', 'batch', 'batch-response', 'document', 'message', 'collection'] },
      total: { type: 'integer', minimum: 0 },
      link: {
        type: 'array',
        items: { type: 'object', required: ['relation', 'url'], properties: { relation: string(), url: { type: 'string', format: 'uri' } } },
      },
      entry: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            fullUrl: { type: 'string', format: 'uri' },
            resource: schemaRef('Resource'),
            search: { type: 'object', properties: { mode: { type: 'string', enum: ['match', 'include', 'outcome'] }, score: { type: 'number' } } },
            request: { type: 'object', properties: { method: string(), url: string() } },
            response: {
              type: 'object',
              properties: { status: string(), location: string(), etag: string(), lastModified: { type: 'string', format: 'date-time' }, outcome: schemaRef('OperationOutcome') },
            },
          },
        },
      },
    },
  },
  SearchBundle: {
    description: 'A `searchset` Bundle: the matches (`search.mode` `match`) and resources added by `_include`/`_revinclude` (`include`); `total` as `_total` asks; `next`/`previous` links page through.',
    allOf: [schemaRef('Bundle')],
    properties: { type: { const: 'searchset' } },
  },
  HistoryBundle: {
    description: 'A `history` Bundle: one entry per version with `request` (how it was made) and `response` (`etag`, `lastModified`); a deletion has no `resource`.',
    allOf: [schemaRef('Bundle')],
    properties: { type: { const: 'history' } },
  },
  Parameters: {
    type: 'object',
    description: 'A [Parameters](https://hl7.org/fhir/R4/parameters.html) resource: `$validate` takes the resource in the parameter named `resource`.',
    required: ['resourceType'],
    properties: {
      resourceType: { const: 'Parameters' },
      parameter: {
        type: 'array',
        items: { type: 'object', required: ['name'], properties: { name: string(), resource: schemaRef('Resource') }, additionalProperties: true },
      },
    },
  },
  CapabilityStatement: {
    type: 'object',
    description: 'The [CapabilityStatement](https://hl7.org/fhir/R4/capabilitystatement.html) of this server.',
    required: ['resourceType'],
    properties: { resourceType: { const: 'CapabilityStatement' }, fhirVersion: { const: '4.0.1' } },
    additionalProperties: true,
  },
  TokenRequest: {
    type: 'object',
    required: ['grant_type', 'client_assertion_type', 'client_assertion'],
    properties: {
      grant_type: { const: 'client_credentials' },
      client_assertion_type: { const: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' },
      client_assertion: string('A JWT signed (RS384 or ES384) with a key of the client: `iss` and `sub` the client id, `aud` the token URL, a unique `jti`, a short `exp`.'),
      scope: string('Space-separated SMART scopes wanted, e.g. `system/Patient.rs system/Observation.cruds`; at most those registered.'),
    },
  },
  TokenResponse: {
    type: 'object',
    required: ['access_token', 'token_type', 'expires_in', 'scope'],
    properties: {
      access_token: string('Send as `Authorization: Bearer <access_token>`.'),
      token_type: { const: 'Bearer' },
      expires_in: { type: 'integer', description: 'Seconds the token is valid.' },
      scope: string('The scopes granted.'),
    },
  },
  OAuthError: {
    type: 'object',
    description: 'An [RFC 6749](https://www.rfc-editor.org/rfc/rfc6749#section-5.2) error.',
    required: ['error'],
    properties: {
      error: { type: 'string', enum: ['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope'] },
      error_description: string(),
    },
  },
  Jwks: {
    type: 'object',
    required: ['keys'],
    properties: { keys: { type: 'array', items: { type: 'object', required: ['kty'], properties: { kty: string(), kid: string(), alg: string(), use: string() }, additionalProperties: true } } },
  },
  SmartConfiguration: {
    type: 'object',
    properties: {
      issuer: { type: 'string', format: 'uri' },
      jwks_uri: { type: 'string', format: 'uri' },
      token_endpoint: { type: 'string', format: 'uri' },
      token_endpoint_auth_methods_supported: { type: 'array', items: string() },
      token_endpoint_auth_signing_alg_values_supported: { type: 'array', items: string() },
      grant_types_supported: { type: 'array', items: string() },
      scopes_supported: { type: 'array', items: string() },
      capabilities: { type: 'array', items: string() },
    },
    additionalProperties: true,
  },
  ClientInput: {
    type: 'object',
    description: 'A system client: exactly one of `jwks` and `jwksUri`. Every problem is reported at once, each in `issue.expression`.',
    required: ['id', 'role', 'scopes'],
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Taken from the path on update.' },
      name: { type: 'string', minLength: 1, maxLength: 200 },
      role: { type: 'string', enum: ['hospital', 'prescriber', 'pharmacy', 'laboratory', 'registry-admin', 'analyst', 'auditor'] },
      organization: { type: 'string', pattern: '^[A-Za-z0-9-]{1,32}$', description: 'National facility code.' },
      scopes: {
        description: 'SMART `system/` scopes, e.g. `system/MedicationRequest.rs`, as a list or a space-separated string.',
        anyOf: [{ type: 'array', items: string(), minItems: 1 }, string()],
      },
      jwks: schemaRef('Jwks'),
      jwksUri: { type: 'string', format: 'uri', description: 'An https URL of the client\'s key set.' },
      active: { type: 'boolean', default: true },
    },
  },
  Client: {
    type: 'object',
    properties: {
      id: string(),
      name: string(),
      role: string(),
      organization: string(),
      scopes: { type: 'array', items: string() },
      jwks: schemaRef('Jwks'),
      jwksUri: { type: 'string', format: 'uri' },
      active: { type: 'boolean' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  HealthStatus: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['ok', 'ready', 'shutting-down', 'database-unavailable'] } },
  },
};
