import { FhirError, type Issue } from '../../errors/fhir-error';
import { readForServerCheck as readCurrentResources } from '../../store/read';
import type { Tx } from '../../store/transaction';
import { parseJson } from '../../shared/json';
import type { NationalIdScheme } from '../../shared/national-id';
import { replacedBy } from '../identity/patient-merge';
import { findRegistryReferences, type FoundRegistryReference } from './reference-walk';
import { checkRegistryRules, type ResolvedReference } from './registry-rules';
import { REGISTRY_TARGET_TYPES, registryTypeOfSystem } from './registry-systems';

/** The search seam this step needs: ids of current resources matching FHIR search criteria. */
export type FindIds = (tx: Tx, resourceType: string, criteria: URLSearchParams, limit: number) => Promise<string[]>;

export interface RegistryReferenceOptions {
  mode: 'strict' | 'open';
  schemes: readonly NationalIdScheme[];
  findIds: FindIds;
}

/** Resource types that are not clinical data: registry entries themselves, conformance and infrastructure. */
const NOT_CLINICAL = new Set([
  'Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Location', 'HealthcareService', 'Endpoint', 'OrganizationAffiliation',
  'StructureDefinition', 'CodeSystem', 'ValueSet', 'NamingSystem', 'ConceptMap', 'CapabilityStatement', 'OperationDefinition',
  'SearchParameter', 'ImplementationGuide', 'CompartmentDefinition', 'StructureMap', 'Subscription', 'AuditEvent', 'Binary', 'Bundle',
  'Parameters', 'OperationOutcome', 'Library', 'Questionnaire',
]);

type Resource = { resourceType: string; id: string } & Record<string, unknown>;

function issue(path: string, nhisCode: string, code: Issue['code'], diagnostics: string): Issue {
  return { severity: 'error', code, diagnostics, expression: [path], nhisCode };
}

/** `Type/id`, `Type/id/_history/n`; absolute URLs are external (never registry entries). */
function parseLiteral(reference: string): { type: string; id: string } | 'external' | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(reference)) return 'external';
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(reference);
  return m ? { type: m[1], id: m[2] } : undefined;
}

/**
 * Registry-aware writes (issue 5 §5), run in the write transaction after the
 * resource is stored: every reference from clinical data to a Patient,
 * Practitioner, PractitionerRole, Organization or Location must resolve (by
 * literal id or by `Reference.identifier`) to an existing, active entry;
 * otherwise 422 naming the element. `strict` also refuses registry entries
 * (other than Patients) created by the same transaction: clinical submissions
 * reference the registry, they do not populate it. Then the consistency rules
 * run on what the references resolved to.
 */
export function createRegistryReferenceHook(opts: RegistryReferenceOptions) {
  return {
    async afterStore(tx: Tx, resource: Resource): Promise<void> {
      if (NOT_CLINICAL.has(resource.resourceType)) return;
      const issues: Issue[] = [];
      const wanted: { ref: FoundRegistryReference; type: string; id: string }[] = [];
      for (const ref of findRegistryReferences(resource)) {
        const where = ref.path;
        if (ref.reference !== undefined) {
          const parsed = parseLiteral(ref.reference);
          if (parsed === 'external') {
            const type = ref.type ?? /\/([A-Z][A-Za-z]+)\/[^/]+$/.exec(ref.reference)?.[1];
            if (opts.mode === 'strict' && type && REGISTRY_TARGET_TYPES.has(type)) {
              issues.push(issue(where, 'NHIS-3203', 'not-found', `'${ref.reference}' is outside the national registry; reference the ${type} by id or identifier`));
            }
            continue;
          }
          if (parsed && REGISTRY_TARGET_TYPES.has(parsed.type)) wanted.push({ ref, ...parsed });
          continue;
        }
        const ident = ref.identifier!;
        const type = ref.type ?? registryTypeOfSystem(ident.system, opts.schemes);
        if (!type) {
          if (opts.mode === 'strict') {
            issues.push(issue(where, 'NHIS-3204', 'required', `Reference.identifier ${ident.system}|${ident.value} names no registry; add Reference.type`));
          }
          continue;
        }
        if (!REGISTRY_TARGET_TYPES.has(type)) continue;
        const ids = await opts.findIds(tx, type, new URLSearchParams({ identifier: `${ident.system}|${ident.value}` }), 5);
        if (ids.length === 0) {
          issues.push(issue(where, 'NHIS-3201', 'not-found', `No ${type} in the registry has identifier ${ident.system}|${ident.value}`));
          continue;
        }
        // After a merge the source keeps its identifiers; the active holder is the one meant.
        const rows = await readCurrentResources(tx, ids.map((id) => ({ resourceType: type, id })));
        const active = ids.filter((id) => {
          const row = rows.get(`${type}/${id}`);
          return row && !row.deleted && (parseJson(row.content) as { active?: unknown }).active !== false;
        });
        if (active.length > 1) {
          issues.push(issue(where, 'NHIS-3205', 'multiple-matches', `Identifier ${ident.system}|${ident.value} matches ${active.length} active ${type} entries`));
          continue;
        }
        wanted.push({ ref, type, id: active[0] ?? ids[0] });
      }

      const rows = await readCurrentResources(tx, wanted.map((w) => ({ resourceType: w.type, id: w.id })));
      const resolved: ResolvedReference[] = [];
      for (const w of wanted) {
        const row = rows.get(`${w.type}/${w.id}`);
        const where = w.ref.path;
        if (!row || row.deleted) {
          issues.push(issue(where, 'NHIS-3201', 'not-found', `${w.type}/${w.id} does not resolve to a ${w.type} in the registry`));
          continue;
        }
        const target = parseJson(row.content) as Record<string, unknown> & { active?: unknown };
        if (target.active === false) {
          const merged = w.type === 'Patient' ? replacedBy(target as never) : undefined;
          issues.push(
            issue(where, 'NHIS-3202', 'business-rule', merged ? `Patient/${w.id} was merged into Patient/${merged}; reference that one` : `${w.type}/${w.id} is inactive in the registry`),
          );
          continue;
        }
        if (opts.mode === 'strict' && w.type !== 'Patient' && row.writtenInThisTransaction) {
          issues.push(
            issue(where, 'NHIS-3203', 'business-rule', `${w.type}/${w.id} is created by this same submission; in strict registry mode clinical data must reference existing registry entries`),
          );
          continue;
        }
        resolved.push({ path: where, type: w.type, id: w.id, target });
      }
      issues.push(...checkRegistryRules(resource, resolved));
      if (issues.length > 0) throw new FhirError(422, issues);
    },
  };
}
