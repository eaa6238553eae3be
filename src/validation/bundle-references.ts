import type { Issue } from '../errors/fhir-error';
import { buildIssue } from './codes';
import { findReferences } from './resource-references';

/**
 * References inside `document` and `collection` Bundles, resolved as
 * https://hl7.org/fhir/R4/bundle.html#references says: an absolute reference
 * (URL, `urn:uuid:`, `urn:oid:`) matches an entry's fullUrl; a relative
 * `Type/id` is made absolute against the referring entry's RESTful fullUrl
 * first; a version-specific reference matches the fullUrl without the version,
 * then `meta.versionId`. Errors:
 * - a `urn:uuid:`/`urn:oid:` reference that matches no entry (it can mean nothing else);
 * - in a document, a reference from the Composition that matches no entry ("any other
 *   resources referenced from Composition must be included", Composition definition);
 * - a version-specific reference to a version no matching entry has;
 * - a reference that matches more than one entry (ambiguous: "applications MAY return an error").
 * A relative reference from an entry without a RESTful fullUrl that matches an entry only by
 * type and id gets a warning (the specification gives it no meaning inside the Bundle).
 * Other unresolved references (http URLs, relative references from a RESTful entry) name
 * resources outside the Bundle, which the specification allows.
 */

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;
const RESTFUL_FULL_URL = /^((?:https?):\/\/.*\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;
const HISTORY = /^(.*)\/_history\/([A-Za-z0-9\-.]{1,64})$/;

interface IndexedEntry {
  index: number;
  fullUrl?: string;
  resource: Record<string, unknown>;
  versionId?: string;
}

function asEntries(bundle: Record<string, unknown>): IndexedEntry[] {
  const raw = Array.isArray(bundle.entry) ? bundle.entry : [];
  const out: IndexedEntry[] = [];
  raw.forEach((e, index) => {
    const entry = e as { fullUrl?: unknown; resource?: unknown } | null;
    const resource = entry?.resource;
    if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) return;
    const r = resource as Record<string, unknown> & { meta?: { versionId?: unknown } };
    out.push({
      index,
      fullUrl: typeof entry?.fullUrl === 'string' ? entry.fullUrl : undefined,
      resource: r,
      versionId: typeof r.meta?.versionId === 'string' ? r.meta.versionId : undefined,
    });
  });
  return out;
}

export function checkBundleReferences(bundle: Record<string, unknown>, expression: string): Issue[] {
  const type = bundle.type;
  if (type !== 'document' && type !== 'collection') return [];
  const entries = asEntries(bundle);
  const byFullUrl = new Map<string, IndexedEntry[]>();
  const byTypeId = new Map<string, IndexedEntry[]>();
  for (const e of entries) {
    if (e.fullUrl !== undefined) byFullUrl.set(e.fullUrl, [...(byFullUrl.get(e.fullUrl) ?? []), e]);
    if (typeof e.resource.id === 'string') {
      const key = `${String(e.resource.resourceType)}/${e.resource.id}`;
      byTypeId.set(key, [...(byTypeId.get(key) ?? []), e]);
    }
  }
  const issues: Issue[] = [];
  const composition = type === 'document' ? entries.find((e) => e.index === 0 && e.resource.resourceType === 'Composition') : undefined;
  for (const from of entries) {
    const restful = from.fullUrl !== undefined ? RESTFUL_FULL_URL.exec(from.fullUrl) : null;
    for (const ref of findReferences(from.resource, `${expression}.entry[${from.index}].resource`)) {
      const raw = ref.reference;
      if (raw.startsWith('#') || raw.includes('?')) continue; // contained (ref-1, dom-3) and conditional references
      const literal = raw.split('#')[0];
      const versioned = HISTORY.exec(literal);
      const unversioned = versioned ? versioned[1] : literal;
      const version = versioned?.[2];
      let target: string | undefined;
      if (ABSOLUTE.test(unversioned)) target = unversioned;
      else if (RELATIVE.test(unversioned) && restful) target = restful[1] + unversioned;
      const problem = target !== undefined ? resolve(target, version, byFullUrl) : undefined;
      const report = (message: string): void => {
        issues.push(buildIssue('bundleReference', `Reference '${raw}' ${message}`, [`${ref.expression}.reference`]));
      };
      if (problem === 'none') {
        if (/^urn:(uuid|oid):/.test(target!)) report('matches no entry of the Bundle (a urn: reference can only resolve inside it)');
        else if (from === composition) report("matches no entry: a document includes every resource its Composition references");
      } else if (problem !== undefined) {
        report(problem);
      } else if (target === undefined && RELATIVE.test(unversioned)) {
        const apparent = byTypeId.get(unversioned);
        if (apparent) {
          // A warning, not an error: the official R4 document example Bundle-father.json does this.
          const message = `matches entry[${apparent[0].index}] by type and id only: entry[${from.index}] has no RESTful fullUrl to resolve a relative reference against, so the specification gives it no meaning here; use the fullUrl ${apparent[0].fullUrl ?? '(none)'}`;
          issues.push(buildIssue('bundleReference', `Reference '${raw}' ${message}`, [`${ref.expression}.reference`], 'warning'));
        } else if (from === composition) {
          report("matches no entry: a document includes every resource its Composition references");
        }
      }
    }
  }
  return issues;
}

/** `undefined` when the reference resolves to exactly one entry (and version); otherwise what is wrong. */
function resolve(target: string, version: string | undefined, byFullUrl: Map<string, IndexedEntry[]>): string | 'none' | undefined {
  const matches = byFullUrl.get(target) ?? [];
  if (matches.length === 0) return 'none';
  if (version === undefined) {
    if (matches.length === 1) return undefined;
    return `is ambiguous: ${matches.length} entries (${matches.map((m) => `entry[${m.index}]`).join(', ')}) have fullUrl ${target}; make it version-specific`;
  }
  const withVersion = matches.filter((m) => m.versionId === version);
  if (withVersion.length === 1) return undefined;
  if (withVersion.length > 1) return `is ambiguous: ${withVersion.length} entries have fullUrl ${target} and version ${version}`;
  const known = matches.map((m) => m.versionId ?? '(none)').join(', ');
  return `names version ${version} of ${target}, which the Bundle does not hold (meta.versionId: ${known})`;
}
