// https://hl7.org/fhir/R4/capabilitystatement.html — generated from the route table.
import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestResourceSearchParam } from '@medplum/fhirtypes';
import { RESOURCE_TYPES } from '../shared/resource-types';
import { conformanceResourcesOf } from '../validation/conformance-resources';
import { AUDIT_SEARCH_PARAMS } from '../store/audit/audit-search';
import { searchParamsOf } from '../store/search/definitions';
import { AUDIT_EVENT } from '../store/stored-types';
import type { FhirRoute } from './route-types';
import { FHIR_ROUTES } from './routes';

/** The search parameters served for a type: every R4 one, except on the audit trail (its own set). */
export function capabilitySearchParams(resourceType: string): CapabilityStatementRestResourceSearchParam[] {
  const all = [...searchParamsOf(resourceType).values()].map((d) => ({ name: d.code, type: d.type, definition: d.url }));
  return resourceType === AUDIT_EVENT ? all.filter((p) => AUDIT_SEARCH_PARAMS.includes(p.name)) : all;
}

export interface CapabilityOptions {
  baseUrl: string;
  version: string;
  /** Search parameters the search engine supports for a type. */
  searchParams?: (resourceType: string) => CapabilityStatementRestResourceSearchParam[];
  /** Extra routes mounted beside the FHIR table (e.g. transaction at `POST /`). */
  extraRoutes?: Pick<FhirRoute, 'interaction' | 'level' | 'operation' | 'types'>[];
}

/** Operations defined by FHIR R4 itself, by name (and the type they are defined on, when not every type). */
const CORE_OPERATIONS: Record<string, string> = {
  validate: 'Resource-validate',
  everything: 'Patient-everything',
  match: 'Patient-match',
  expand: 'ValueSet-expand',
  'validate-code': 'ValueSet-validate-code',
  lookup: 'CodeSystem-lookup',
};

/** The canonical OperationDefinition of an operation: ours (fhir-profiles/, served at /OperationDefinition/{id}) or R4's. */
export function operationDefinitionUrl(name: string, type?: string): string {
  const shipped = conformanceResourcesOf('OperationDefinition').find(
    (d) => d.code === name && (type === undefined ? d.system === true : Array.isArray(d.resource) && d.resource.includes(type)),
  );
  if (shipped?.url) return shipped.url;
  return `http://hl7.org/fhir/OperationDefinition/${CORE_OPERATIONS[name] ?? `Resource-${name}`}`;
}

type TypeInteraction = NonNullable<CapabilityStatementRestResource['interaction']>[number]['code'];

export function buildCapabilityStatement(opts: CapabilityOptions, now = new Date()): CapabilityStatement {
  const routes = [...FHIR_ROUTES, ...(opts.extraRoutes ?? [])];
  const typeRoutes = routes.filter((r) => r.level !== 'system');
  const interactionCodes = [...new Set(typeRoutes.filter((r) => r.interaction !== 'operation').map((r) => r.interaction))];
  const hasConditionalCreate = true; // create honours If-None-Exist
  const typeOps = (type: string) => [...new Set(typeRoutes.filter((r) => r.operation && (!r.types || r.types.includes(type))).map((r) => r.operation!))];
  const systemRoutes = routes.filter((r) => r.level === 'system');

  const resources: CapabilityStatementRestResource[] = RESOURCE_TYPES.map((type) => ({
    // RESOURCE_TYPES is read from the R4 definitions, so every entry is a resource type.
    type: type as CapabilityStatementRestResource['type'],
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction: interactionCodes
      .filter((c) => !c.startsWith('conditional-') && c !== 'search-compartment')
      .map((code) => ({ code: code as TypeInteraction })),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: hasConditionalCreate,
    conditionalRead: 'not-supported',
    conditionalUpdate: interactionCodes.includes('conditional-update'),
    conditionalDelete: interactionCodes.includes('conditional-delete') ? 'single' : 'not-supported',
    searchParam: opts.searchParams?.(type),
    operation: typeOps(type).map((name) => ({ name, definition: operationDefinitionUrl(name, type) })),
  }));

  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: now.toISOString(),
    publisher: 'OpenNHIS',
    kind: 'instance',
    software: { name: 'OpenNHIS', version: opts.version },
    implementation: { description: 'OpenNHIS national health information exchange', url: opts.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json'],
    rest: [
      {
        mode: 'server',
        resource: resources,
        // POST / serves both transaction and batch Bundles.
        interaction: [...new Set(systemRoutes.filter((r) => r.interaction !== 'operation').flatMap((r) => (r.interaction === 'transaction' ? ['transaction', 'batch'] : [r.interaction])))].map((code) => ({
          code: code as 'transaction' | 'batch' | 'search-system' | 'history-system',
        })),
        operation: [...new Set(systemRoutes.filter((r) => r.operation).map((r) => r.operation!))].map((name) => ({
          name,
          definition: operationDefinitionUrl(name),
        })),
      },
    ],
  };
}
