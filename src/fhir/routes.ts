import { asyncCancel, asyncStatus } from './async/async-status';
import { bundleInteraction } from './bundle/bundle-interaction';
import { idempotent } from './bundle/idempotency-key';
import { accessOptionsOf } from './access';
import { create } from './interactions/create';
import { conditionalDelete, deleteInstance } from './interactions/delete';
import { historyInstance, historySystem, historyType } from './interactions/history';
import { read } from './interactions/read';
import { conditionalUpdate, update } from './interactions/update';
import { validateOperation } from './interactions/validate';
import { vread } from './interactions/vread';
import { medicationRequestTimeline } from './operations/medication-request-timeline';
import { isPrescriptionTransaction, prescribeByCreate, prescribeOperation, prescribeTransaction } from './operations/prescription-prescribe';
import { authorizeEntries } from './bundle/authorize-entries';
import { isEPrescription } from '../domain/prescription/prescribe';
import { taskAbort } from './operations/task-abort';
import { taskAccept } from './operations/task-accept';
import { taskClose } from './operations/task-close';
import { taskDispense } from './operations/task-dispense';
import { taskReject } from './operations/task-reject';
import { patientIhePix } from './operations/patient-ihe-pix';
import { patientMatch } from './operations/patient-match';
import { patientMerge } from './operations/patient-merge';
import { patientEverything } from './operations/patient-everything';
import { shippedConformanceRead, structureDefinitionRead } from './operations/structure-definition-read';
import { valueSetExpand } from './operations/terminology-expand';
import { codeSystemLookup } from './operations/terminology-lookup';
import { valueSetValidateCode } from './operations/terminology-validate-code';
import type { FhirRoute, Handler } from './route-types';
import { searchCompartment, searchSystem, searchType } from './search/search-handlers';

export type { FhirRoute, Handler } from './route-types';

const idempotentCreate = idempotent(create);
const idempotentBundle = idempotent(bundleInteraction);
/** A transaction of ePrescriptions runs the prescribing workflow; every other Bundle the generic processing. */
const bundleOrPrescriptions: Handler = async (ctx, req) => {
  if (!isPrescriptionTransaction(req.body)) return idempotentBundle(ctx, req);
  if (req.principal) authorizeEntries(req.principal, (req.body as { entry: unknown[] }).entry, req.baseUrl, accessOptionsOf(ctx.config));
  return prescribeTransaction(ctx, req);
};
/** An ePrescription posted as a plain create runs the prescribing workflow (never through Idempotency-Key storage). */
const createOrPrescribe: Handler = (ctx, req) =>
  req.params.type === 'MedicationRequest' && req.body && typeof req.body === 'object' && isEPrescription(req.body as Record<string, unknown>)
    ? prescribeByCreate(ctx, req)
    : idempotentCreate(ctx, req);

const ROUTES: FhirRoute[] = [
  { method: 'GET', path: '/', interaction: 'search-system', level: 'system', handler: searchSystem },
  { method: 'GET', path: '/_history', interaction: 'history-system', level: 'system', handler: historySystem },
  { method: 'POST', path: '/', interaction: 'transaction', level: 'system', handler: bundleOrPrescriptions },
  { method: 'GET', path: '/_async/:jobId', interaction: 'operation', level: 'system', handler: asyncStatus },
  { method: 'DELETE', path: '/_async/:jobId', interaction: 'operation', level: 'system', handler: asyncCancel },
  { method: 'POST', path: '/$validate', interaction: 'operation', operation: 'validate', level: 'system', handler: validateOperation },
  // ePrescription workflow (issue 7), before the generic entries. The type stays a path parameter so access
  // decisions see it (req.params.type); `types` makes any other type 404.
  { method: 'POST', path: '/:type/$prescribe', interaction: 'operation', operation: 'prescribe', level: 'type', types: ['MedicationRequest'], errors: { 403: 'The client is not a prescriber', 422: 'Unknown or deceased patient, unknown or inactive prescriber or role, bad quantity or validity (the element is named)' }, handler: prescribeOperation },
  { method: 'GET', path: '/:type/:id/$timeline', interaction: 'operation', operation: 'timeline', level: 'instance', types: ['MedicationRequest'], errors: { 403: 'The role may not read timelines', 404: 'Not an ePrescription, or not the patient\'s own' }, handler: medicationRequestTimeline },
  { method: 'POST', path: '/:type/:id/$accept', interaction: 'operation', operation: 'accept', level: 'instance', types: ['Task'], errors: { 403: 'Not a pharmacy', 404: 'Unknown Task, or a wrong access code (the same answer for both)', 409: 'Claimed by another pharmacy, or not ready (the state is named)', 410: 'The prescription has expired' }, handler: taskAccept },
  { method: 'POST', path: '/:type/:id/$reject', interaction: 'operation', operation: 'reject', level: 'instance', types: ['Task'], errors: { 403: 'Wrong secret or not the claimant', 404: 'Unknown Task', 409: 'Not in progress (the state is named)' }, handler: taskReject },
  { method: 'POST', path: '/:type/:id/$dispense', interaction: 'operation', operation: 'dispense', level: 'instance', types: ['Task'], errors: { 403: 'Wrong secret or not the claimant', 404: 'Unknown Task', 409: 'Not in progress, or more than prescribed' }, handler: taskDispense },
  { method: 'POST', path: '/:type/:id/$close', interaction: 'operation', operation: 'close', level: 'instance', types: ['Task'], errors: { 403: 'Wrong secret or not the claimant', 404: 'Unknown Task', 409: 'Not in progress (the state is named), or more than prescribed' }, handler: taskClose },
  { method: 'POST', path: '/:type/:id/$abort', interaction: 'operation', operation: 'abort', level: 'instance', types: ['Task'], errors: { 403: 'Neither the prescribing organization nor the patient', 404: 'Unknown Task', 409: 'Held by a pharmacy, or already ended' }, handler: taskAbort },
  { method: 'GET', path: '/:type', interaction: 'search-type', level: 'type', handler: searchType },
  { method: 'POST', path: '/:type/_search', interaction: 'search-type', level: 'type', handler: searchType },
  { method: 'POST', path: '/:type', interaction: 'create', level: 'type', handler: createOrPrescribe },
  { method: 'PUT', path: '/:type', interaction: 'conditional-update', level: 'type', handler: conditionalUpdate },
  { method: 'DELETE', path: '/:type', interaction: 'conditional-delete', level: 'type', handler: conditionalDelete },
  { method: 'GET', path: '/:type/_history', interaction: 'history-type', level: 'type', handler: historyType },
  // Identity operations (issue 5), before the generic /:type/:id entries. `:type` (not a literal
  // `/Patient/`) so access rules see the resource type; `types` makes any other type 404.
  { method: 'POST', path: '/:type/$match', interaction: 'operation', operation: 'match', level: 'type', types: ['Patient'], errors: { 403: 'The role may not search the registry' }, handler: patientMatch },
  { method: 'POST', path: '/:type/$merge', interaction: 'operation', operation: 'merge', level: 'type', types: ['Patient'], errors: { 403: 'Only registry administrators merge', 404: 'Source or target unknown', 409: 'Source already merged' }, handler: patientMerge },
  { method: 'GET', path: '/:type/$ihe-pix', interaction: 'operation', operation: 'ihe-pix', level: 'type', types: ['Patient'], errors: { 404: 'No active Patient holds the identifier', 409: 'More than one active Patient holds it' }, handler: patientIhePix },
  { method: 'POST', path: '/:type/$validate', interaction: 'operation', operation: 'validate', level: 'type', handler: validateOperation },
  // Terminology and conformance reads of the shipped national resources (fhir-profiles/); before /:type/:id.
  { method: 'GET', path: '/ValueSet/$expand', interaction: 'operation', operation: 'expand', level: 'type', handler: valueSetExpand },
  { method: 'POST', path: '/ValueSet/$expand', interaction: 'operation', operation: 'expand', level: 'type', handler: valueSetExpand },
  { method: 'GET', path: '/ValueSet/$validate-code', interaction: 'operation', operation: 'validate-code', level: 'type', handler: valueSetValidateCode },
  { method: 'POST', path: '/ValueSet/$validate-code', interaction: 'operation', operation: 'validate-code', level: 'type', handler: valueSetValidateCode },
  { method: 'GET', path: '/CodeSystem/$lookup', interaction: 'operation', operation: 'lookup', level: 'type', handler: codeSystemLookup },
  { method: 'POST', path: '/CodeSystem/$lookup', interaction: 'operation', operation: 'lookup', level: 'type', handler: codeSystemLookup },
  { method: 'GET', path: '/StructureDefinition/:id', interaction: 'read', level: 'instance', handler: structureDefinitionRead },
  { method: 'GET', path: '/ValueSet/:id', interaction: 'read', level: 'instance', handler: shippedConformanceRead('ValueSet') },
  { method: 'GET', path: '/CodeSystem/:id', interaction: 'read', level: 'instance', handler: shippedConformanceRead('CodeSystem') },
  { method: 'GET', path: '/NamingSystem/:id', interaction: 'read', level: 'instance', handler: shippedConformanceRead('NamingSystem') },
  { method: 'GET', path: '/OperationDefinition/:id', interaction: 'read', level: 'instance', handler: shippedConformanceRead('OperationDefinition') },
  { method: 'GET', path: '/:type/:id', interaction: 'read', level: 'instance', handler: read },
  { method: 'PUT', path: '/:type/:id', interaction: 'update', level: 'instance', handler: update },
  { method: 'DELETE', path: '/:type/:id', interaction: 'delete', level: 'instance', handler: deleteInstance },
  { method: 'GET', path: '/:type/:id/_history', interaction: 'history-instance', level: 'instance', handler: historyInstance },
  { method: 'GET', path: '/:type/:id/_history/:vid', interaction: 'vread', level: 'instance', handler: vread },
  { method: 'GET', path: '/:type/:id/$everything', interaction: 'operation', operation: 'everything', level: 'instance', types: ['Patient'], errors: { 403: 'Granular scopes, or a role that may not read whole records', 404: 'Unknown patient, or not the caller\'s own' }, handler: patientEverything },
  // Compartment search: https://hl7.org/fhir/R4/compartmentdefinition.html (Patient compartment).
  { method: 'GET', path: '/:type/:id/:compartmentType', interaction: 'search-compartment', level: 'instance', handler: searchCompartment },
];

/** The FHIR route table (see ./route-types.ts). */
export const FHIR_ROUTES: readonly FhirRoute[] = ROUTES;
