import fs from 'node:fs';
import path from 'node:path';
import type { FhirRoute } from '../../src/fhir/routes';
import { FHIR_JSON, REQUEST_MEDIA_TYPES, responseHeaders, schemaRef } from './components';
import type { MediaType, Parameter, RequestBody, Response, Schema } from './types';

/**
 * The national workflow operations (ePrescription, $timeline) and the transaction endpoint as an
 * integrator builds a call from them: their query parameters (`ac`, `secret`, `reason`), bodies and
 * answers, each with an example. Request examples are the files in examples/ that the README test
 * sends to a server holding the demo data; answers are what such a server returns (ids shortened).
 * The OperationDefinitions in fhir-profiles/ say the same in FHIR terms.
 */

export interface WorkflowDoc {
  verb: string;
  summary: string;
  description: string;
  parameters: Parameter[];
  requestBody?: RequestBody;
  responses: Record<string, Response>;
}

function exampleFile(name: string): unknown {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'examples', name);
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
    if (path.dirname(dir) === dir) throw new Error(`examples/${name} not found above ${__dirname}`);
  }
}

const BASE = 'https://nhis.example/fhir';
const PATIENT = 'Patient/5b0c6a3e-2f4d-4c55-9a71-3d2e8f1b6c40';
const PRACTITIONER = 'Practitioner/0e7d9c1a-6b5f-4a38-8e2d-7c4b3a2f1e90';
const MEDICATION_REQUEST_ID = 'c1a7e3f0-9d2b-4e6c-8a5f-2b7d1e0c9f34';
const TASK_ID = '7f3b2a10-4c6d-4e8f-9a1b-5d2c3e4f6a70';
const NUMBER = 'RX-26-0000123-4';
const RAMIPRIL = { coding: [{ system: 'http://www.whocc.no/atc', code: 'C09AA05', display: 'ramipril' }] };

/** The prescription request of examples/prescription.json with the ids a search by national identifier found. */
function prescriptionExample(): Record<string, unknown> {
  const rx = exampleFile('prescription.json') as Record<string, unknown>;
  return { ...rx, subject: { reference: PATIENT }, requester: { reference: PRACTITIONER } };
}

const storedMedicationRequest = (): Record<string, unknown> => ({
  ...prescriptionExample(),
  id: MEDICATION_REQUEST_ID,
  meta: { versionId: '1', lastUpdated: '2026-03-06T09:12:41.204Z', profile: ['http://opennhis.org/fhir/StructureDefinition/eprescription-medication-request'] },
  identifier: [{ use: 'official', system: 'http://opennhis.org/fhir/sid/prescription-number', value: NUMBER }],
  dispenseRequest: { quantity: { value: 30, unit: 'tablet' }, numberOfRepeatsAllowed: 0, validityPeriod: { start: '2026-03-06', end: '2026-04-05' } },
});

const task = (status: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Task',
  id: TASK_ID,
  meta: { versionId: status === 'ready' ? '1' : '2', lastUpdated: '2026-03-06T17:40:02.118Z' },
  identifier: [{ use: 'official', system: 'http://opennhis.org/fhir/sid/prescription-number', value: NUMBER }],
  status,
  intent: 'order',
  focus: { reference: `MedicationRequest/${MEDICATION_REQUEST_ID}` },
  for: { reference: PATIENT },
  authoredOn: '2026-03-06T09:12:41.204Z',
  ...extra,
});

const claimed = { owner: { identifier: { system: 'http://opennhis.org/fhir/sid/facility-code', value: '2450000221' } } };

const query = (name: string, description: string, required: boolean, example: string): Parameter => ({
  name,
  in: 'query',
  required,
  description,
  schema: { type: 'string', examples: [example] },
});

const AC = query('ac', 'The access code the patient shows (from `$prescribe`; 6 digits in the demo).', true, '482913');
const SECRET = query('secret', 'The claim secret from `$accept`; only the claiming pharmacy has it.', true, 'b6f0c8d1e3a94f27a5c1d0e9b8a7f6c5');
const REASON = query('reason', 'Why, in words; kept in the timeline.', false, 'out of stock');

const fhir = (schema: Schema, example: unknown, summary?: string): Record<string, MediaType> => ({
  [FHIR_JSON]: { schema, examples: { [summary ?? 'example']: { summary: summary ?? 'Example', value: example } } } as MediaType,
});

const body = (description: string, schema: Schema, example: unknown): RequestBody => ({
  description,
  required: true,
  content: Object.fromEntries(REQUEST_MEDIA_TYPES.map((m) => [m, { schema, examples: { example: { summary: 'Example', value: example } } } as MediaType])),
});

const dispenseBody = (required: boolean): RequestBody => ({
  ...body(
    'The MedicationDispense(s) handed over: one MedicationDispense, or a Bundle or Parameters of them. The server fills `subject`, `authorizingPrescription` and `performer`.',
    { anyOf: [schemaRef('MedicationDispense'), schemaRef('Bundle'), schemaRef('Parameters')] },
    exampleFile('dispense.json'),
  ),
  required,
});

const parametersAnswer = (description: string, example: unknown): Response => ({ description, headers: responseHeaders(), content: fhir(schemaRef('Parameters'), example) });

const WORKFLOW: Record<string, (route: FhirRoute) => WorkflowDoc> = {
  $prescribe: () => ({
    verb: 'prescribe',
    summary: 'Issue ePrescriptions',
    description:
      'Validates the MedicationRequest(s) against the national ePrescription profile, stores each with a prescription number and a Task that pharmacies claim. ' +
      'The answer holds each **access code this once only** (it is kept as a hash): give it to the patient. Safety warnings (interactions, duplicates) are in `outcome`; they never refuse. ' +
      '`subject` and `requester` are literal references: find the ids by national identifier first (`GET /Patient?identifier=http://opennhis.org/fhir/sid/bg-egn|...`). ' +
      'Definition: `GET /OperationDefinition/MedicationRequest-prescribe`.',
    parameters: [],
    requestBody: body(
      'One MedicationRequest, or a Bundle or Parameters of several sharing a `groupIdentifier`.',
      { anyOf: [schemaRef('MedicationRequest'), schemaRef('Bundle'), schemaRef('Parameters')] },
      prescriptionExample(),
    ),
    responses: {
      200: parametersAnswer('One `prescription` part per item (number, access code, MedicationRequest, Task) and an `outcome`.', {
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'prescription',
            part: [
              { name: 'prescriptionNumber', valueIdentifier: { use: 'official', system: 'http://opennhis.org/fhir/sid/prescription-number', value: NUMBER } },
              { name: 'accessCode', valueString: '482913' },
              { name: 'medicationRequest', resource: storedMedicationRequest() },
              { name: 'task', resource: task('ready') },
            ],
          },
          { name: 'outcome', resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: '1 prescription(s) issued' }] } },
        ],
      }),
    },
  }),
  $accept: () => ({
    verb: 'accept',
    summary: 'Claim an ePrescription (pharmacy)',
    description:
      'Claims the prescription behind the Task with the access code. Find the Task id with `GET /MedicationRequest?identifier=http://opennhis.org/fhir/sid/prescription-number|<number>&_revinclude=Task:focus`. ' +
      'The answer holds the claim `secret` for `$dispense`, `$close` and `$reject`; the claim lapses at `leaseExpires`. A retry by the same pharmacy answers the same secret. No body.',
    parameters: [AC],
    responses: {
      200: parametersAnswer('The claim: `secret`, `leaseExpires`, the prescription number, the MedicationRequest and the Task (in-progress).', {
        resourceType: 'Parameters',
        parameter: [
          { name: 'secret', valueString: 'b6f0c8d1e3a94f27a5c1d0e9b8a7f6c5' },
          { name: 'leaseExpires', valueInstant: '2026-03-06T18:10:02.118Z' },
          { name: 'prescriptionNumber', valueString: NUMBER },
          { name: 'medicationRequest', valueReference: { reference: `MedicationRequest/${MEDICATION_REQUEST_ID}` } },
          { name: 'task', resource: task('in-progress', claimed) },
        ],
      }),
    },
  }),
  $reject: () => ({
    verb: 'reject',
    summary: 'Give a claimed ePrescription back',
    description: 'The claiming pharmacy gives the prescription back: the Task is ready for any pharmacy again and the secret stops working. No body.',
    parameters: [SECRET, REASON],
    responses: { 200: { description: 'The Task, ready again.', headers: responseHeaders(), content: fhir(schemaRef('Task'), task('ready')) } },
  }),
  $dispense: () => ({
    verb: 'dispense',
    summary: 'Record a partial dispense',
    description: 'Records MedicationDispense(s) under the claim without ending it (partial fills); `$close` ends it.',
    parameters: [SECRET],
    requestBody: dispenseBody(true),
    responses: {
      200: {
        description: 'A `collection` Bundle of the stored MedicationDispenses and the Task.',
        headers: responseHeaders(),
        content: fhir(schemaRef('Bundle'), {
          resourceType: 'Bundle',
          type: 'collection',
          entry: [
            { fullUrl: `${BASE}/MedicationDispense/2d4f6a8c-0e1b-4c3d-8f5a-6b7c8d9e0f12`, resource: { ...(exampleFile('dispense.json') as object), id: '2d4f6a8c-0e1b-4c3d-8f5a-6b7c8d9e0f12', subject: { reference: PATIENT }, authorizingPrescription: [{ reference: `MedicationRequest/${MEDICATION_REQUEST_ID}` }] } },
            { fullUrl: `${BASE}/Task/${TASK_ID}`, resource: task('in-progress', claimed) },
          ],
        }),
      },
    },
  }),
  $close: () => ({
    verb: 'close',
    summary: 'Complete a dispense and end the claim',
    description:
      'Ends the claim with the final MedicationDispense(s) (the body may be empty after `$dispense`). The answer holds a signed `receipt` (a JWS; verify it with `/.well-known/jwks.json`). ' +
      'A prescription is never dispensed twice nor beyond the prescribed quantity.',
    parameters: [SECRET],
    requestBody: dispenseBody(false),
    responses: {
      200: parametersAnswer('The `receipt`, the new `state` (`completed`, or `ready` when repeats remain), the Task and the dispenses.', {
        resourceType: 'Parameters',
        parameter: [
          { name: 'receipt', valueString: 'eyJhbGciOiJFUzM4NCIsImtpZCI6IjNmLi4uIn0.eyJudW1iZXIiOiJSWC0yNi0wMDAwMTIzLTQiLCJkaXNwZW5zZWQiOjMwfQ.c2lnbmF0dXJl' },
          { name: 'state', valueCode: 'completed' },
          { name: 'task', resource: task('completed') },
          { name: 'medicationDispense', resource: { ...(exampleFile('dispense.json') as object), id: '2d4f6a8c-0e1b-4c3d-8f5a-6b7c8d9e0f12', subject: { reference: PATIENT }, authorizingPrescription: [{ reference: `MedicationRequest/${MEDICATION_REQUEST_ID}` }] } },
        ],
      }),
    },
  }),
  $abort: () => ({
    verb: 'abort',
    summary: 'Cancel an ePrescription',
    description: "The prescriber's organization, or the patient (a citizen token with `patient/Task.u`), cancels a prescription that no pharmacy holds. No body.",
    parameters: [REASON],
    responses: { 200: { description: 'The cancelled Task.', headers: responseHeaders(), content: fhir(schemaRef('Task'), task('cancelled')) } },
  }),
  $timeline: () => ({
    verb: 'timeline',
    summary: 'Timeline of an ePrescription',
    description: "Every state change with its time, action, client, organization, role and reason: for settling disputes. For the prescriber's organization, the patient and auditors.",
    parameters: [],
    responses: {
      200: parametersAnswer('The prescription number, its Task, its state and one `event` per change, oldest first.', {
        resourceType: 'Parameters',
        parameter: [
          { name: 'prescriptionNumber', valueString: NUMBER },
          { name: 'task', valueReference: { reference: `Task/${TASK_ID}` } },
          { name: 'state', valueCode: 'completed' },
          { name: 'event', part: [{ name: 'time', valueInstant: '2026-03-06T09:12:41.204Z' }, { name: 'action', valueCode: 'prescribe' }, { name: 'to', valueCode: 'ready' }, { name: 'client', valueString: 'dev-prescriber-2210000001' }, { name: 'organization', valueString: '2210000001' }, { name: 'role', valueCode: 'prescriber' }] },
          { name: 'event', part: [{ name: 'time', valueInstant: '2026-03-06T17:40:02.118Z' }, { name: 'action', valueCode: 'accept' }, { name: 'from', valueCode: 'ready' }, { name: 'to', valueCode: 'in-progress' }, { name: 'client', valueString: 'dev-pharmacy-2450000221' }, { name: 'organization', valueString: '2450000221' }, { name: 'role', valueCode: 'pharmacy' }] },
          { name: 'event', part: [{ name: 'time', valueInstant: '2026-03-06T17:45:12.530Z' }, { name: 'action', valueCode: 'close' }, { name: 'from', valueCode: 'in-progress' }, { name: 'to', valueCode: 'completed' }, { name: 'client', valueString: 'dev-pharmacy-2450000221' }, { name: 'organization', valueString: '2450000221' }, { name: 'role', valueCode: 'pharmacy' }] },
        ],
      }),
    },
  }),
};

/** The workflow description of a route, if it is one of the workflow operations. */
export function describeWorkflowRoute(route: FhirRoute): WorkflowDoc | undefined {
  const doc = route.operation ? WORKFLOW[`$${route.operation}`]?.(route) : undefined;
  if (!doc) return undefined;
  const errors = Object.fromEntries(Object.entries(route.errors ?? {}).map(([status, when]) => [status, { description: when, content: { [FHIR_JSON]: { schema: schemaRef('OperationOutcome') } } }]));
  return { ...doc, responses: { ...doc.responses, 400: { description: 'A parameter or the body is missing or malformed.', content: { [FHIR_JSON]: { schema: schemaRef('OperationOutcome') } } }, ...errors } };
}

/** The transaction endpoint's request and answer examples: the hospital's discharge Bundle. */
export function transactionExamples(): { request: unknown; response: unknown } {
  return {
    request: exampleFile('discharge-bundle.json'),
    response: {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: [
        { response: { status: '201 Created', location: 'Encounter/91c2e4a6-8b0d-4f13-a5c7-e9f1b3d5a7c9/_history/1', etag: 'W/"1"', lastModified: '2026-03-06T11:02:13.554Z' } },
        { response: { status: '201 Created', location: 'Condition/a3c5e7f9-1b2d-4e6f-8a0c-2e4f6a8c0e1b/_history/1', etag: 'W/"1"', lastModified: '2026-03-06T11:02:13.554Z' } },
        { response: { status: '201 Created', location: 'Observation/b4d6f8a0-2c3e-4f70-9b1d-3f5a7c9e1b2d/_history/1', etag: 'W/"1"', lastModified: '2026-03-06T11:02:13.554Z' } },
      ],
    },
  };
}

/** Every example value above, by operation, for the test that validates them. */
export function workflowExamples(): { operation: string; kind: 'request' | 'response'; value: unknown }[] {
  const out: { operation: string; kind: 'request' | 'response'; value: unknown }[] = [];
  for (const [name, describe] of Object.entries(WORKFLOW)) {
    const doc = describe({ operation: name.slice(1) } as FhirRoute);
    const requestExample = (doc.requestBody?.content[FHIR_JSON] as { examples?: Record<string, { value: unknown }> } | undefined)?.examples?.example?.value;
    if (requestExample) out.push({ operation: name, kind: 'request', value: requestExample });
    for (const response of Object.values(doc.responses)) {
      for (const media of Object.values(response.content ?? {})) {
        for (const example of Object.values((media as { examples?: Record<string, { value: unknown }> }).examples ?? {})) out.push({ operation: name, kind: 'response', value: example.value });
      }
    }
  }
  const t = transactionExamples();
  out.push({ operation: 'transaction', kind: 'request', value: t.request }, { operation: 'transaction', kind: 'response', value: t.response });
  return out;
}
