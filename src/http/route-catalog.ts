import { JWKS_PATH, SMART_CONFIGURATION_PATH, TOKEN_PATH } from '../auth/issuer';

/**
 * The routes served beside the FHIR route table (`fhir/routes.ts`): the
 * capabilities interaction, health probes, OAuth endpoints, the client
 * registry and the API documentation. With `FHIR_ROUTES` this is everything
 * the server answers: `openapi.yaml` is generated from both (`npm run openapi`)
 * and a test checks both against the routes express really registers.
 */
export type ServiceRouteBody =
  /** The FHIR CapabilityStatement, `application/fhir+json`. */
  | 'CapabilityStatement'
  /** `{ "status": ... }`, `application/json`. */
  | 'HealthStatus'
  /** This API's OpenAPI document, `application/yaml`. */
  | 'OpenApiDocument'
  /** An HTML page. */
  | 'HtmlPage'
  /** RFC 6749 token request, `application/x-www-form-urlencoded`. */
  | 'TokenRequest'
  /** RFC 6749 token response. */
  | 'TokenResponse'
  /** RFC 6749 §5.2 error, `{ error, error_description }`. */
  | 'OAuthError'
  /** The JSON Web Key Set that verifies access tokens. */
  | 'Jwks'
  /** SMART App Launch discovery document. */
  | 'SmartConfiguration'
  /** A client registration as sent. */
  | 'ClientInput'
  /** A registered client. */
  | 'Client'
  /** Every registered client. */
  | 'ClientList'
  /** No body. */
  | 'None';

/** Error answers shared with the FHIR routes: OperationOutcome bodies. */
export type ServiceRouteError = 400 | 401 | 403 | 404 | 409 | 415 | 429;

export interface ServiceRouteResponse {
  status: number;
  description: string;
  body: ServiceRouteBody;
  /** Response headers beyond `X-Request-Id`, which every answer carries. */
  headers?: ('Retry-After' | 'Location' | 'WWW-Authenticate')[];
}

export interface ServiceRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** express 5 path. */
  path: string;
  operationId: string;
  summary: string;
  description: string;
  tag: 'System' | 'Health' | 'Documentation' | 'Authorization' | 'Administration';
  /** `bearer`: an access token is required (default deny); `none`: public. */
  auth: 'none' | 'bearer';
  /** What each path parameter is. */
  params?: Record<string, string>;
  requestBody?: ServiceRouteBody;
  responses: ServiceRouteResponse[];
  /** Errors answered as an OperationOutcome, described once for all routes. */
  errors?: ServiceRouteError[];
}

const CLIENT_ID = { id: 'The client id (1-64 of `A-Za-z0-9._-`).' };
const ADMIN = 'Needs an `operator` access token (scope `admin/clients`), or the operator bootstrap credential (`ADMIN_BOOTSTRAP_TOKEN`) to register the first operator. Registry administrators do not administer clients. Every change is audited.';

export const SERVICE_ROUTES: readonly ServiceRoute[] = [
  {
    method: 'GET',
    path: '/metadata',
    operationId: 'capabilities',
    summary: 'The CapabilityStatement of this server',
    description:
      'FHIR [capabilities](https://hl7.org/fhir/R4/http.html#capabilities) interaction: every resource type, interaction, search parameter and operation this server supports. No token needed.',
    tag: 'System',
    auth: 'none',
    responses: [{ status: 200, description: 'The CapabilityStatement', body: 'CapabilityStatement' }],
    errors: [415],
  },
  {
    method: 'GET',
    path: '/healthz',
    operationId: 'checkLiveness',
    summary: 'Liveness probe',
    description: 'Answers 200 while the process serves HTTP; it does not touch the database.',
    tag: 'Health',
    auth: 'none',
    responses: [{ status: 200, description: 'The process is alive', body: 'HealthStatus' }],
  },
  {
    method: 'GET',
    path: '/readyz',
    operationId: 'checkReadiness',
    summary: 'Readiness probe',
    description: 'Answers 200 when the database answers within 2 seconds; 503 with `Retry-After` while shutting down or when the database is unavailable.',
    tag: 'Health',
    auth: 'none',
    responses: [
      { status: 200, description: 'Ready to serve requests', body: 'HealthStatus' },
      { status: 503, description: 'Shutting down, or the database is unavailable', body: 'HealthStatus', headers: ['Retry-After'] },
    ],
  },
  {
    method: 'POST',
    path: TOKEN_PATH,
    operationId: 'requestAccessToken',
    summary: 'Get an access token (SMART Backend Services)',
    description:
      '[SMART Backend Services](https://hl7.org/fhir/smart-app-launch/backend-services.html): `client_credentials` with a `private_key_jwt` client assertion signed (RS384 or ES384) by a key of the registered client. Errors are RFC 6749 JSON, not OperationOutcomes.',
    tag: 'Authorization',
    auth: 'none',
    requestBody: 'TokenRequest',
    responses: [
      { status: 200, description: 'The access token', body: 'TokenResponse' },
      { status: 400, description: 'Malformed request, unsupported grant type or scope', body: 'OAuthError' },
      { status: 401, description: 'The client assertion does not authenticate a registered, active client', body: 'OAuthError', headers: ['WWW-Authenticate'] },
    ],
  },
  {
    method: 'GET',
    path: JWKS_PATH,
    operationId: 'getJwks',
    summary: 'Keys that verify access tokens',
    description: 'The public keys that sign this server\'s access tokens ([RFC 7517](https://www.rfc-editor.org/rfc/rfc7517)); they rotate, so cache for minutes, not days.',
    tag: 'Authorization',
    auth: 'none',
    responses: [{ status: 200, description: 'A JSON Web Key Set', body: 'Jwks' }],
  },
  {
    method: 'GET',
    path: SMART_CONFIGURATION_PATH,
    operationId: 'getSmartConfiguration',
    summary: 'SMART configuration (discovery)',
    description: '[SMART discovery](https://hl7.org/fhir/smart-app-launch/conformance.html): the token endpoint, the supported authentication methods, scopes and capabilities.',
    tag: 'Authorization',
    auth: 'none',
    responses: [{ status: 200, description: 'The SMART configuration', body: 'SmartConfiguration' }],
  },
  {
    method: 'GET',
    path: '/admin/clients',
    operationId: 'listClients',
    summary: 'List registered clients',
    description: `The client registry. ${ADMIN}`,
    tag: 'Administration',
    auth: 'bearer',
    responses: [{ status: 200, description: 'Every client, active or not', body: 'ClientList' }],
    errors: [401, 403],
  },
  {
    method: 'POST',
    path: '/admin/clients',
    operationId: 'registerClient',
    summary: 'Register a client',
    description: `Registers a system client with its role, SMART \`system/\` scopes and public keys (\`jwks\` or \`jwksUri\`). ${ADMIN}`,
    tag: 'Administration',
    auth: 'bearer',
    requestBody: 'ClientInput',
    responses: [{ status: 201, description: 'Registered', body: 'Client' }],
    errors: [400, 401, 403, 409],
  },
  {
    method: 'GET',
    path: '/admin/clients/:id',
    operationId: 'getClient',
    summary: 'Read a registered client',
    description: ADMIN,
    tag: 'Administration',
    auth: 'bearer',
    params: CLIENT_ID,
    responses: [{ status: 200, description: 'The client', body: 'Client' }],
    errors: [401, 403, 404],
  },
  {
    method: 'PUT',
    path: '/admin/clients/:id',
    operationId: 'updateClient',
    summary: 'Update a registered client',
    description: `Replaces the registration (role, scopes, keys, active). ${ADMIN}`,
    tag: 'Administration',
    auth: 'bearer',
    params: CLIENT_ID,
    requestBody: 'ClientInput',
    responses: [{ status: 200, description: 'Updated', body: 'Client' }],
    errors: [400, 401, 403, 404],
  },
  {
    method: 'DELETE',
    path: '/admin/clients/:id',
    operationId: 'deactivateClient',
    summary: 'Deactivate a client',
    description: `Clients are deactivated, never deleted: their ids stay in the audit trail. ${ADMIN}`,
    tag: 'Administration',
    auth: 'bearer',
    params: CLIENT_ID,
    responses: [{ status: 204, description: 'Deactivated', body: 'None' }],
    errors: [401, 403, 404],
  },
  {
    method: 'GET',
    path: '/openapi.yaml',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI document',
    description: 'The OpenAPI 3.1 description of every route of this server, generated from the route tables. gzip-compressed when the client accepts it.',
    tag: 'Documentation',
    auth: 'none',
    responses: [{ status: 200, description: 'The OpenAPI document', body: 'OpenApiDocument' }],
  },
  {
    method: 'GET',
    path: '/openapi-national.yaml',
    operationId: 'getNationalOpenApiDocument',
    summary: 'The national API: workflows, registries, transactions',
    description: 'A short OpenAPI 3.1 description of what hospitals, prescribers, pharmacies and registry clients call, generated from the same route tables as `/openapi.yaml`. gzip-compressed when the client accepts it.',
    tag: 'Documentation',
    auth: 'none',
    responses: [{ status: 200, description: 'The OpenAPI document', body: 'OpenApiDocument' }],
  },
  {
    method: 'GET',
    path: '/docs',
    operationId: 'getApiDocs',
    summary: 'Interactive API documentation',
    description: 'Swagger UI over `/openapi-national.yaml` and `/openapi.yaml`; Authorize with a bearer token to try a call. `/docs` redirects to `/docs/`, which serves the page (its assets are relative to it).',
    tag: 'Documentation',
    auth: 'none',
    responses: [
      { status: 200, description: 'The Swagger UI page (at `/docs/`)', body: 'HtmlPage' },
      { status: 301, description: 'Redirect from `/docs` to `/docs/`', body: 'None', headers: ['Location'] },
    ],
  },
];
