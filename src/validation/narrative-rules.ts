import type { Issue } from '../errors/fhir-error';
import { buildIssue } from './codes';

/**
 * Fragment links between the narrative and the resource must resolve
 * (https://hl7.org/fhir/R4/narrative.html, https://hl7.org/fhir/R4/references.html;
 * `Element.id` exists "for internal references"):
 * - `<a href="#x">` in a Narrative's div names an anchor of the narrative
 *   (`id` or `name` attribute) or an element id of the resource (a contained
 *   resource's id included; inside a Bundle, also an entry's resource id);
 * - the `narrativeLink` extension's `#x` names an anchor of the narrative.
 */

const FRAGMENT_HREF = /\bhref\s*=\s*(?:"#([^"]*)"|'#([^']*)')/g;
const ANCHOR = /\b(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

export const NARRATIVE_LINK_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/narrativeLink';

export interface NarrativeEnv {
  resource: unknown;
  rootResource: unknown;
}

function unescapeXml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e] as string);
}

function anchorsOf(div: string): Set<string> {
  const out = new Set<string>();
  for (const m of div.matchAll(ANCHOR)) out.add(unescapeXml(m[1] ?? m[2]));
  return out;
}

/** Every `id` property anywhere in `value` (element ids, contained resources' ids). */
function collectIds(value: unknown, out: Set<string>): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) collectIds(v, out);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === 'id' && typeof v === 'string') out.add(v);
    else collectIds(v, out);
  }
}

function entryResourceIds(root: unknown): string[] {
  const r = root as { resourceType?: unknown; entry?: unknown } | null;
  if (r?.resourceType !== 'Bundle' || !Array.isArray(r.entry)) return [];
  return r.entry.map((e) => (e as { resource?: { id?: unknown } })?.resource?.id).filter((id): id is string => typeof id === 'string');
}

/** `<a href="#x">` in the div of the Narrative `node` (at `expression`). */
export function checkNarrativeLinks(node: Record<string, unknown>, expression: string, env: NarrativeEnv, issues: Issue[]): void {
  const div = node.div;
  if (typeof div !== 'string' || !div.includes('#')) return;
  let targets: Set<string> | undefined;
  for (const m of div.matchAll(FRAGMENT_HREF)) {
    const fragment = unescapeXml(m[1] ?? m[2]);
    if (fragment === '') continue;
    if (!targets) {
      targets = anchorsOf(div);
      collectIds(env.resource, targets);
      for (const id of entryResourceIds(env.rootResource)) targets.add(id);
    }
    if (!targets.has(fragment)) {
      issues.push(
        buildIssue('narrativeLink', `Narrative link '#${fragment}' names no anchor in the narrative and no element id in the resource`, [
          `${expression}.div`,
        ]),
      );
    }
  }
}

/** The `narrativeLink` extension's `#x` (at `expression`) must name an anchor in the resource's narrative. */
export function checkNarrativeLinkExtension(url: unknown, expression: string, env: NarrativeEnv, issues: Issue[]): void {
  if (typeof url !== 'string' || !url.startsWith('#')) return;
  const div = (env.resource as { text?: { div?: unknown } } | null)?.text?.div;
  const anchors = typeof div === 'string' ? anchorsOf(div) : new Set<string>();
  if (!anchors.has(url.slice(1))) {
    issues.push(buildIssue('narrativeLink', `narrativeLink '${url}' names no anchor (id or name) in the resource's narrative`, [`${expression}.valueUrl`]));
  }
}
