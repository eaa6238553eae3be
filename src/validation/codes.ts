import type { Issue } from '../errors/fhir-error';

/**
 * Stable codes for validation issues (the NHIS-2xxx range). Integrators search
 * for these, so a code, once published, keeps its meaning.
 */
export const VALIDATION_CODES = {
  /** An element that the StructureDefinition does not define. */
  unknownElement: { nhisCode: 'NHIS-2001', code: 'structure', title: 'Unknown element' },
  /** A value of the wrong JSON type (object where a string belongs, array for a single element, …). */
  wrongType: { nhisCode: 'NHIS-2002', code: 'structure', title: 'Wrong type' },
  /** A required element is missing, or an element repeats too often / too little. */
  cardinality: { nhisCode: 'NHIS-2003', code: 'required', title: 'Cardinality or required element' },
  /** A primitive value that does not match the R4 format of its type. */
  primitiveFormat: { nhisCode: 'NHIS-2004', code: 'value', title: 'Primitive value format' },
  /** A FHIRPath invariant (constraint) of the specification is not met. */
  invariant: { nhisCode: 'NHIS-2005', code: 'invariant', title: 'Invariant failed' },
  /** More than one variant of a choice element (`value[x]`). */
  choiceType: { nhisCode: 'NHIS-2006', code: 'structure', title: 'Choice type' },
  /** A Bundle rule (fullUrl form, consistency or uniqueness; link relations). */
  bundleRule: { nhisCode: 'NHIS-2007', code: 'invalid', title: 'Bundle rule' },
  /** The body is not a JSON object, or its resourceType is missing or unknown. */
  notAResource: { nhisCode: 'NHIS-2008', code: 'invalid', title: 'Not a resource' },
  /** A code not in the ValueSet of a required binding of the core specification. */
  binding: { nhisCode: 'NHIS-2009', code: 'code-invalid', title: 'Required binding' },
  /** An invariant that could not be evaluated on this instance: validation fails closed rather than passing it. */
  invariantNotEvaluated: { nhisCode: 'NHIS-2010', code: 'invariant', title: 'Invariant could not be evaluated' },
  /** In a document or collection Bundle, a reference that does not resolve to one entry (or to no existing version). */
  bundleReference: { nhisCode: 'NHIS-2011', code: 'business-rule', title: 'Bundle reference does not resolve' },
  /** An Attachment whose declared size or hash disagrees with its inline data. */
  attachment: { nhisCode: 'NHIS-2012', code: 'business-rule', title: 'Attachment size or hash' },
  /** A known extension used against its definition (value type, context, sub-extensions, modifier flag). */
  extension: { nhisCode: 'NHIS-2013', code: 'business-rule', title: 'Extension definition' },
  /** An extension whose definition the server does not know (warning: not checked). */
  unknownExtension: { nhisCode: 'NHIS-2014', code: 'business-rule', title: 'Unknown extension' },
  /** A fragment link in the narrative (`href="#id"`) that names nothing in the resource. */
  narrativeLink: { nhisCode: 'NHIS-2015', code: 'business-rule', title: 'Narrative link does not resolve' },
  /** A SearchParameter or CapabilityStatement inconsistent with the definitions it names. */
  conformance: { nhisCode: 'NHIS-2016', code: 'business-rule', title: 'SearchParameter / CapabilityStatement consistency' },
  /** Profile (national StructureDefinition): an element occurs too often or too rarely. */
  profileCardinality: { nhisCode: 'NHIS-2101', code: 'business-rule', title: 'Profile cardinality' },
  /** Profile: a value differs from the profile's fixed[x] value. */
  profileFixed: { nhisCode: 'NHIS-2102', code: 'business-rule', title: 'Profile fixed value' },
  /** Profile: a value does not contain the profile's pattern[x]. */
  profilePattern: { nhisCode: 'NHIS-2103', code: 'business-rule', title: 'Profile pattern' },
  /** Profile: a slice (e.g. the national identifier) is missing or repeats too often, or a closed slicing is broken. */
  profileSlice: { nhisCode: 'NHIS-2104', code: 'business-rule', title: 'Profile slice' },
  /** Profile: a code not in the ValueSet of a required binding of the profile. */
  profileBinding: { nhisCode: 'NHIS-2105', code: 'business-rule', title: 'Profile required binding' },
  /** Profile: a FHIRPath constraint of the profile is not met. */
  profileConstraint: { nhisCode: 'NHIS-2106', code: 'invariant', title: 'Profile constraint' },
  /** Profile: a type the profile does not allow (choice type or reference target). */
  profileType: { nhisCode: 'NHIS-2107', code: 'business-rule', title: 'Profile type' },
  /** A `meta.profile` the server does not know (national canonical: error; other: warning, not checked). */
  unknownProfile: { nhisCode: 'NHIS-2108', code: 'business-rule', title: 'Unknown profile' },
} as const satisfies Record<string, { nhisCode: string; code: Issue['code']; title: string }>;

export type ValidationCode = keyof typeof VALIDATION_CODES;

export function buildIssue(kind: ValidationCode, diagnostics: string, expression: string[], severity: Issue['severity'] = 'error'): Issue {
  const { nhisCode, code } = VALIDATION_CODES[kind];
  return { severity, code, diagnostics, expression, nhisCode };
}
