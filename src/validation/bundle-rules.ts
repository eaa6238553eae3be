import type { Issue } from '../errors/fhir-error';
import { checkBundleReferences } from './bundle-references';
import { buildIssue } from './codes';

/**
 * Bundle rules beyond the bdl-* invariants (https://hl7.org/fhir/R4/bundle.html):
 * - a RESTful fullUrl names the entry's resource: it ends with `Type/id`;
 * - fullUrl is unique, or entries sharing it differ in meta.versionId; history bundles are exempt (bdl-7).
 * With the extended rules also:
 * - fullUrl is an absolute URI, and a `urn:uuid:`/`urn:oid:` one is a well-formed UUID/OID
 *   (Bundle.entry.fullUrl: "the Absolute URL for the resource");
 * - every entry with a resource has a fullUrl in document, message and collection Bundles
 *   (it may only be absent on a POST in a transaction/batch, or in results of operations);
 * - the paging and `self` link relations occur at most once (https://hl7.org/fhir/R4/http.html#paging);
 * - references resolve inside document and collection Bundles (bundle-references.ts).
 */

const RESTFUL_URL = /^(?:[a-z][a-z0-9+.-]*:\/\/[^?#]*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;
// RFC 4122: hex digits are case-insensitive on input.
const URN_UUID = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const URN_OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const FULL_URL_REQUIRED = new Set(['document', 'message', 'collection']);
const SINGLE_RELATIONS = new Set(['self', 'first', 'previous', 'prev', 'next', 'last']);

interface EntryLike {
  fullUrl?: unknown;
  resource?: { resourceType?: unknown; id?: unknown; meta?: { versionId?: unknown } };
}

export function checkBundleRules(bundle: Record<string, unknown>, expression: string, isResourceType: (t: string) => boolean, extended = true): Issue[] {
  const issues: Issue[] = [];
  if (extended) checkLinks(bundle, expression, issues);
  const entries = bundle.entry;
  if (!Array.isArray(entries)) return issues;
  const seen = new Map<string, number>();
  const isHistory = bundle.type === 'history';
  const fullUrlRequired = extended && FULL_URL_REQUIRED.has(String(bundle.type));
  entries.forEach((raw: unknown, i) => {
    if (raw === null || typeof raw !== 'object') return;
    const entry = raw as EntryLike;
    const resource = entry.resource && typeof entry.resource === 'object' ? entry.resource : undefined;
    if (typeof entry.fullUrl !== 'string') {
      if (fullUrlRequired && resource && entry.fullUrl === undefined) {
        issues.push(buildIssue('bundleRule', `Every entry of a ${String(bundle.type)} Bundle needs a fullUrl`, [`${expression}.entry[${i}]`]));
      }
      return;
    }
    const where = `${expression}.entry[${i}].fullUrl`;
    if (extended) {
      const problem = fullUrlProblem(entry.fullUrl);
      if (problem) issues.push(buildIssue('bundleRule', `fullUrl '${entry.fullUrl}' ${problem}`, [where]));
    }
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
  if (extended) issues.push(...checkBundleReferences(bundle, expression));
  return issues;
}

function fullUrlProblem(fullUrl: string): string | undefined {
  if (!ABSOLUTE_URI.test(fullUrl)) return 'is not an absolute URI (an absolute URL, urn:uuid: or urn:oid:)';
  if (/^urn:uuid:/i.test(fullUrl) && !URN_UUID.test(fullUrl)) return 'is not a well-formed urn:uuid: (RFC 4122)';
  if (/^urn:oid:/i.test(fullUrl) && !URN_OID.test(fullUrl)) return 'is not a well-formed urn:oid:';
  return undefined;
}

function checkLinks(bundle: Record<string, unknown>, expression: string, issues: Issue[]): void {
  const links = bundle.link;
  if (!Array.isArray(links)) return;
  const seen = new Map<string, number>();
  links.forEach((l, i) => {
    const relation = (l as { relation?: unknown } | null)?.relation;
    if (typeof relation !== 'string' || !SINGLE_RELATIONS.has(relation)) return;
    const first = seen.get(relation);
    if (first === undefined) seen.set(relation, i);
    else issues.push(buildIssue('bundleRule', `Link relation '${relation}' repeats (first at link[${first}])`, [`${expression}.link[${i}].relation`]));
  });
}
