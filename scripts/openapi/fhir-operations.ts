import type { FhirRoute } from '../../src/fhir/routes';
import {
  FHIR_JSON,
  REQUEST_MEDIA_TYPES,
  paramRef,
  requestBodyRef,
  responseHeaders,
  responseRef,
  schemaRef,
  typeResponseRef,
  type HeaderName,
} from './components';
import { SEARCH_VALUE_RULES } from './search-parameters';
import { describeWorkflowRoute, transactionExamples } from './workflow-operations';
import type { Parameter, Ref, RequestBody, Response, Schema } from './types';

/**
 * What each FHIR route of the route table means over HTTP (parameters, body,
 * answers), from `src/fhir/interactions/`. Looked up by `METHOD path`, then by
 * interaction code (`$name` for a named operation); a route found in neither
 * still gets a plain description, so adding a route never breaks the generator.
 */

export interface OperationDoc {
  /** First word of the operationId: `read` → `readPatient`. */
  verb: string;
  summary: string;
  description: string;
  parameters: (Parameter | Ref)[];
  requestBody?: RequestBody | Ref;
  responses: Record<string, Response | Ref>;
}

export interface DescribeInput {
  route: FhirRoute;
  /** The resource type of a type- or instance-level route. */
  type?: string;
  searchParameters: (resourceType: string) => Parameter[];
  /** Every resource type described. */
  resourceTypes: readonly string[];
}

type Describe = (input: DescribeInput) => OperationDoc;

const SPEC = 'https://hl7.org/fhir/R4/http.html';

/** `a Patient`, `an Observation` (`A Patient` at the start of a sentence). */
export function withArticle(type: string, capital = false): string {
  const article = /^[AEIOU]/.test(type) ? 'an' : 'a';
  return `${capital ? article[0].toUpperCase() + article.slice(1) : article} ${type}`;
}

const json = (schema: Schema | Ref): Record<string, { schema: Schema }> => ({ [FHIR_JSON]: { schema } });

function outcome(description: string, ...headers: HeaderName[]): Response {
  return { description, headers: responseHeaders(...headers), content: json(schemaRef('OperationOutcome')) };
}

function bundle(schema: 'SearchBundle' | 'HistoryBundle' | 'Bundle', description: string): Response {
  return { description, headers: responseHeaders(), content: json(schemaRef(schema)) };
}

/** The answers every resource type shares the shape of, as `components.responses` of that type. */
export function typeResponses(type: string): Record<string, Response> {
  const writtenBody = json(type === 'OperationOutcome' ? schemaRef(type) : { anyOf: [schemaRef(type), schemaRef('OperationOutcome')] });
  const prefer = `The body follows \`Prefer\`: the stored ${type} (default), an OperationOutcome, or none.`;
  return {
    [type]: { description: `The ${type}`, headers: responseHeaders('ETag', 'LastModified'), content: json(schemaRef(type)) },
    [`${type}Created`]: {
      description: `Created. ${prefer}`,
      headers: responseHeaders('Location', 'ETag', 'LastModified', 'IdempotencyReplayed'),
      content: writtenBody,
    },
    [`${type}Updated`]: { description: `Updated. ${prefer}`, headers: responseHeaders('ContentLocation', 'ETag', 'LastModified'), content: writtenBody },
  };
}

function typeOf(input: DescribeInput): string {
  if (!input.type) throw new Error(`${input.route.method} ${input.route.path}: ${input.route.interaction} needs a resource type`);
  return input.type;
}

const SEARCH_RESULT_PARAMETERS = ['Count', 'Sort', 'Include', 'Revinclude', 'Total', 'Summary', 'Elements', 'Cursor', 'PreferHandling'] as const;
const HISTORY_PARAMETERS = [paramRef('HistoryCount'), paramRef('Since'), paramRef('At'), paramRef('Cursor')];
const WRITE_ERRORS = {
  400: responseRef('BadRequest'),
  409: responseRef('Conflict'),
  412: responseRef('PreconditionFailed'),
  413: responseRef('PayloadTooLarge'),
  415: responseRef('UnsupportedMediaType'),
  422: responseRef('Unprocessable'),
};
const SEARCH_DESCRIPTION = `FHIR [search](https://hl7.org/fhir/R4/search.html). ${SEARCH_VALUE_RULES}`;

function history(verb: string, scope: string, link: string, notFound: boolean): OperationDoc {
  return {
    verb,
    summary: `History of ${scope}`,
    description: `FHIR [${link}](${SPEC}#history): every version, newest first, deletions included (an entry without a resource), in pages.`,
    parameters: HISTORY_PARAMETERS,
    responses: {
      200: bundle('HistoryBundle', 'A `history` Bundle'),
      400: responseRef('BadRequest'),
      ...(notFound ? { 404: responseRef('NotFound') } : {}),
    },
  };
}

const BY_INTERACTION: Record<string, Describe> = {
  read: (input) => {
    const type = typeOf(input);
    return {
      verb: 'read',
      summary: `Read the current ${type}`,
      description: `FHIR [read](${SPEC}#read). A deleted ${type} answers 410.`,
      parameters: [],
      responses: { 200: typeResponseRef(type, ''), 400: responseRef('BadRequest'), 404: responseRef('NotFound'), 410: responseRef('Gone') },
    };
  },
  vread: (input) => {
    const type = typeOf(input);
    return {
      verb: 'vread',
      summary: `Read one version of ${withArticle(type)}`,
      description: `FHIR [vread](${SPEC}#vread). A version that records a deletion answers 410.`,
      parameters: [],
      responses: { 200: typeResponseRef(type, ''), 400: responseRef('BadRequest'), 404: responseRef('NotFound'), 410: responseRef('Gone') },
    };
  },
  create: (input) => {
    const type = typeOf(input);
    return {
      verb: 'create',
      summary: `Create ${withArticle(type)}`,
      description:
        `FHIR [create](${SPEC}#create): the server assigns the id. With \`If-None-Exist\` it is a [conditional create](${SPEC}#ccreate): ` +
        `when one ${type} matches, nothing is created and the answer is 200 with the match and its \`Location\`.`,
      parameters: [paramRef('IfNoneExist'), paramRef('PreferReturn'), paramRef('IdempotencyKey')],
      requestBody: requestBodyRef(type),
      responses: { 200: typeResponseRef(type, ''), 201: typeResponseRef(type, 'Created'), ...WRITE_ERRORS },
    };
  },
  update: (input) => {
    const type = typeOf(input);
    return {
      verb: 'update',
      summary: `Update ${withArticle(type)}, or create it with this id`,
      description: `FHIR [update](${SPEC}#update): the body's \`id\` must equal the URL's. \`If-Match\` makes it a version-aware update.`,
      parameters: [paramRef('IfMatch'), paramRef('PreferReturn')],
      requestBody: requestBodyRef(type),
      responses: { 200: typeResponseRef(type, 'Updated'), 201: typeResponseRef(type, 'Created'), ...WRITE_ERRORS },
    };
  },
  'conditional-update': (input) => {
    const type = typeOf(input);
    return {
      verb: 'conditionalUpdate',
      summary: `Update the ${type} matching the criteria, or create one`,
      description: `FHIR [conditional update](${SPEC}#cond-update): no match creates, one match is updated, several answer 412.`,
      parameters: [paramRef('Criteria'), paramRef('IfMatch'), paramRef('PreferReturn')],
      requestBody: requestBodyRef(type),
      responses: { 200: typeResponseRef(type, 'Updated'), 201: typeResponseRef(type, 'Created'), ...WRITE_ERRORS },
    };
  },
  delete: (input) => {
    const type = typeOf(input);
    return {
      verb: 'delete',
      summary: `Delete ${withArticle(type)}`,
      description: `FHIR [delete](${SPEC}#delete). Deleting what does not exist, or is already deleted, also answers 200. The history is kept.`,
      parameters: [paramRef('IfMatch')],
      responses: {
        200: outcome('Deleted (the `ETag` is the version that records the deletion), or nothing to delete.', 'ETag'),
        400: responseRef('BadRequest'),
        412: responseRef('PreconditionFailed'),
      },
    };
  },
  'conditional-delete': (input) => {
    const type = typeOf(input);
    return {
      verb: 'conditionalDelete',
      summary: `Delete the ${type} matching the criteria`,
      description: `FHIR [conditional delete](${SPEC}#3.1.0.7.1): one match is deleted, none is a 200, several answer 412.`,
      parameters: [paramRef('Criteria')],
      responses: {
        200: outcome('Deleted (with the `ETag` of the deletion), or nothing matched.', 'ETag'),
        400: responseRef('BadRequest'),
        412: responseRef('PreconditionFailed'),
      },
    };
  },
  'search-type': (input) => {
    const type = typeOf(input);
    const responses = { 200: bundle('SearchBundle', `A \`searchset\` Bundle of ${type} matches (and included resources)`), 400: responseRef('BadRequest') };
    if (input.route.method === 'GET') {
      return {
        verb: 'search',
        summary: `Search ${type}`,
        description: SEARCH_DESCRIPTION,
        parameters: [...input.searchParameters(type), ...SEARCH_RESULT_PARAMETERS.map(paramRef)],
        responses,
      };
    }
    return {
      verb: 'search',
      summary: `Search ${type} with a form`,
      description: `${SEARCH_DESCRIPTION} The parameters travel in a form body, as for \`GET /${type}\`; use this for long or sensitive criteria.`,
      parameters: [paramRef('PreferHandling')],
      requestBody: requestBodyRef('SearchForm'),
      responses: { ...responses, 413: responseRef('PayloadTooLarge'), 415: responseRef('UnsupportedMediaType') },
    };
  },
  'search-system': (input) => ({
    verb: 'searchSystem',
    summary: 'Search across resource types',
    description: `${SEARCH_DESCRIPTION} Without \`_type\` only the parameters every resource has can be used.`,
    parameters: [
      {
        name: '_type',
        in: 'query',
        description: 'Comma-separated resource types to search, e.g. `Patient,Practitioner`; their shared parameters can then be used.',
        schema: { type: 'string' },
      },
      // The parameters of the base Resource, which every type has.
      ...input.searchParameters(input.resourceTypes[0] ?? 'Patient').filter((p) => p.name.startsWith('_')),
      ...SEARCH_RESULT_PARAMETERS.map(paramRef),
    ],
    responses: { 200: bundle('SearchBundle', 'A `searchset` Bundle'), 400: responseRef('BadRequest') },
  }),
  'search-compartment': (input) => {
    const type = typeOf(input);
    return {
      verb: 'searchCompartment',
      summary: `Search inside the compartment of ${withArticle(type)}`,
      description:
        `FHIR [compartment search](https://hl7.org/fhir/R4/compartmentdefinition.html): \`GET /Patient/{id}/Observation?...\` searches the Observations of that patient. ` +
        `Only the Patient compartment is supported; for other types this answers 400. ${SEARCH_VALUE_RULES}`,
      parameters: SEARCH_RESULT_PARAMETERS.map(paramRef),
      responses: { 200: bundle('SearchBundle', 'A `searchset` Bundle'), 400: responseRef('BadRequest') },
    };
  },
  'history-instance': (input) => history('historyInstance', `one ${typeOf(input)}`, 'history-instance', true),
  'history-type': (input) => history('historyType', `all ${typeOf(input)} resources`, 'history-type', false),
  'history-system': () => history('historySystem', 'all resources', 'history-system', false),
  $validate: (input) => ({
    verb: 'validate',
    summary: input.type ? `Validate ${withArticle(input.type)} without storing it` : 'Validate any resource without storing it',
    description:
      'FHIR [$validate](https://hl7.org/fhir/R4/resource-operation-validate.html): the same checks as a write. The answer is 200 either way; the OperationOutcome carries the verdict.' +
      (input.type ? ` The resource must be ${withArticle(input.type)}.` : ''),
    parameters: [],
    requestBody: requestBodyRef('Validation'),
    responses: {
      200: outcome('The outcome: errors if the resource is invalid, one information issue if it is valid.'),
      400: responseRef('BadRequest'),
      413: responseRef('PayloadTooLarge'),
      415: responseRef('UnsupportedMediaType'),
    },
  }),
  transaction: () => ({
    verb: 'transaction',
    summary: 'Process a transaction or batch Bundle',
    description:
      `FHIR [transaction and batch](${SPEC}#transaction): a \`transaction\` Bundle succeeds or fails as a whole; a \`batch\` answers each entry on its own. ` +
      'With `Prefer: respond-async` the Bundle is queued: poll the `Content-Location` of the 202 answer.',
    parameters: [paramRef('PreferBundle'), paramRef('IdempotencyKey')],
    requestBody: {
      description:
        'A `transaction` or `batch` Bundle. Entries may reference each other by `urn:uuid:` fullUrl, and registry entries by national identifier ' +
        '(`Patient?identifier=http://opennhis.org/fhir/sid/bg-egn|...`), so a sender needs no server ids. Example: a hospital discharge (`examples/discharge-bundle.json`).',
      required: true,
      content: Object.fromEntries(
        REQUEST_MEDIA_TYPES.map((m) => [m, { schema: schemaRef('Bundle'), examples: { discharge: { summary: 'A hospital discharge: Encounter, Condition, Observation', value: transactionExamples().request } } }]),
      ),
    },
    responses: {
      200: {
        description: 'A `transaction-response` or `batch-response` Bundle, one entry per request entry, in order',
        headers: responseHeaders('IdempotencyReplayed'),
        content: { [FHIR_JSON]: { schema: schemaRef('Bundle'), examples: { discharge: { summary: 'The discharge, stored', value: transactionExamples().response } } } },
      },
      202: outcome('Queued (`Prefer: respond-async`): poll the status URL in `Content-Location`.', 'AsyncStatus', 'IdempotencyReplayed'),
      ...WRITE_ERRORS,
    },
  }),
};

const BY_ROUTE: Record<string, Describe> = {
  'GET /_async/:jobId': () => ({
    verb: 'getAsyncStatus',
    summary: 'Status, then answer, of an asynchronous request',
    description:
      '[Asynchronous request pattern](https://hl7.org/fhir/R4/async.html): 202 while queued or running; once done, the answer the request would have had (status, headers and body, e.g. a `transaction-response` Bundle).',
    parameters: [],
    responses: {
      200: bundle('Bundle', 'Done: the answer of the request, e.g. a `transaction-response` or `batch-response` Bundle'),
      202: { description: 'Still queued or running; ask again after `Retry-After`.', headers: responseHeaders('Progress', 'RetryAfter') },
      404: responseRef('NotFound'),
    },
  }),
  'DELETE /_async/:jobId': () => ({
    verb: 'cancelAsyncRequest',
    summary: 'Cancel an asynchronous request',
    description: 'Cancels a queued request; a running Bundle is rolled back before it commits. A finished request keeps its answer (409).',
    parameters: [],
    responses: {
      202: outcome('Cancelled, or cancellation requested.'),
      404: responseRef('NotFound'),
      409: responseRef('Conflict'),
    },
  }),
};

function camelCase(code: string): string {
  return code.replace(/^\$/, '').replace(/[-_.]+([a-zA-Z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** A route with no entry above: described from the route alone. */
function describePlainly(input: DescribeInput): OperationDoc {
  const { route, type } = input;
  const on = type ? ` on ${type}` : '';
  if (route.interaction === 'operation') {
    const name = route.operation ? `$${route.operation}` : route.path;
    return {
      verb: camelCase(route.operation ?? (route.path.split('/').find((s) => s && !s.startsWith(':')) || 'operation')),
      summary: `${name}${on}`,
      description: `FHIR [operation](https://hl7.org/fhir/R4/operations.html) \`${name}\` at ${route.level} level; its parameters are in the CapabilityStatement.`,
      parameters: route.method === 'GET' ? [paramRef('OperationParameters')] : [],
      requestBody: route.method === 'GET' || route.method === 'DELETE' ? undefined : requestBodyRef('OperationInput'),
      responses: {
        200: { description: 'The result of the operation', headers: responseHeaders(), content: json(schemaRef('Resource')) },
        400: responseRef('BadRequest'),
        422: responseRef('Unprocessable'),
        ...Object.fromEntries(Object.entries(route.errors ?? {}).map(([status, when]) => [status, { description: when, content: json(schemaRef('OperationOutcome')) }])),
      },
    };
  }
  const hasBody = route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH';
  return {
    verb: camelCase(route.interaction),
    summary: `${route.interaction}${on}`,
    description: `FHIR interaction \`${route.interaction}\` at ${route.level} level.`,
    parameters: [],
    requestBody: hasBody ? requestBodyRef(type ?? 'Resource') : undefined,
    responses: { 200: { description: 'Done', headers: responseHeaders(), content: json(schemaRef('Resource')) }, 400: responseRef('BadRequest') },
  };
}

export function describeFhirRoute(input: DescribeInput): OperationDoc {
  const { route } = input;
  const interaction = route.interaction === 'operation' && route.operation ? `$${route.operation}` : route.interaction;
  const describe = BY_ROUTE[`${route.method} ${route.path}`] ?? BY_INTERACTION[interaction] ?? describePlainly;
  const doc = describeWorkflowRoute(route) ?? describe(input);
  // Every FHIR route is behind authentication (default deny).
  return { ...doc, responses: { ...doc.responses, 401: responseRef('Unauthorized'), 403: responseRef('Forbidden'), default: responseRef('Error') } };
}
