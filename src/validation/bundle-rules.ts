import type { Issue } from '../errors/fhir-error';
import { buildIssue } from './codes';

/**
 * Bundle rules beyond the bdl-* invariants (https://hl7.org/fhir/R4/bundle.html#bundle-unique):
 * - a RESTful fullUrl names the entry's resource: it ends with `Type/id`;
 * - fullUrl is unique, or entries sharing it differ in meta.versionId; history bundles are exempt (bdl-7).
 */

const RESTFUL_URL = /^(?:[a-z][a-z0-9+.-]*:\/\/[^?#]*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

interface EntryLike {
  fullUrl?: unknown;
  resource?: { resourceType?: unknown; id?: unknown; meta?: { versionId?: unknown } };
}

export function checkBundleRules(bundle: Record<string, unknown>, expression: string, isResourceType: (t: string) => boolean): Issue[] {
  const entries = bundle.entry;
  if (!Array.isArray(entries)) return [];
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  const isHistory = bundle.type === 'history';
  entries.forEach((raw: unknown, i) => {
    if (raw === null || typeof raw !== 'object') return;
    const entry = raw as EntryLike;
    if (typeof entry.fullUrl !== 'string') return;
    const where = `${expression}.entry[${i}].fullUrl`;
    const resource = entry.resource && typeof entry.resource === 'object' ? entry.resource : undefined;
    const m = RESTFUL_URL.exec(entry.fullUrl);
    if (m && isResourceType(m[1]) && resource && typeof resource.id === 'string') {
      const expected = `${String(resource.resourceType)}/${resource.id}`;
      if (m[1] !== resource.resourceType || m[2] !== resource.id) {
        issues.push(buildIssue('bundleRule', `fullUrl '${entry.fullUrl}' does not match the entry's resource ${expected}`, [where]));
      }
    }
    if (isHistory) return;
    const versionId = resource?.meta?.versionId;
    const key = `${entry.fullUrl}\u0000${typeof versionId === 'string' ? versionId : ''}`;
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, i);
    } else {
      issues.push(
        buildIssue('bundleRule', `bdl-7: fullUrl '${entry.fullUrl}' is already used by entry[${first}]`, [where]),
      );
    }
  });
  return issues;
}
