import type { AccessView } from '../../auth/decide';
import { applyElements } from '../search/subset';

/**
 * Views: what of a resource a caller sees when `decide()` grants only a subset.
 * `demographics` — a pharmacy reading a Patient sees who the person is (identifiers, name,
 * contact, birth date, gender, deceased, address), nothing of their care (general practitioner,
 * links, contacts, communication preferences, extensions). Served marked SUBSETTED, like `_elements`.
 * (`own-audit` is applied where AuditEvents are built, ./audit/audit-event-json.ts.)
 */
const DEMOGRAPHIC_ELEMENTS: Record<string, string[]> = {
  Patient: ['identifier', 'active', 'name', 'telecom', 'gender', 'birthDate', 'deceased', 'address'],
};

/** Search parameters that select by those elements only. */
const DEMOGRAPHIC_PARAMS: Record<string, ReadonlySet<string>> = {
  Patient: new Set(['_id', '_lastUpdated', 'identifier', 'active', 'name', 'family', 'given', 'phonetic', 'telecom', 'phone', 'email', 'gender', 'birthdate', 'death-date', 'deceased', 'address', 'address-city', 'address-country', 'address-postalcode', 'address-state', 'address-use']),
};

export function viewAllowsParam(view: AccessView, type: string, param: string): boolean {
  if (view !== 'demographics') return true;
  return DEMOGRAPHIC_PARAMS[type]?.has(param) ?? false;
}

/** The resource as the view shows it (`content` as stored); undefined view: unchanged. */
export function applyView(view: AccessView | undefined, resource: Record<string, unknown>): Record<string, unknown> {
  if (view !== 'demographics') return resource;
  const elements = DEMOGRAPHIC_ELEMENTS[String(resource.resourceType)];
  return elements ? applyElements(resource, elements) : { resourceType: resource.resourceType, id: resource.id, meta: resource.meta };
}
