/**
 * R4 examples (hl7.fhir.r4.examples 4.0.1) that are themselves invalid per the
 * specification, each with the rule it breaks. The examples test fails if one
 * of these starts to pass, so the list stays honest.
 */
const EMPTY_NARRATIVE = 'txt-1/txt-2: text.div is an empty <div> (narrative SHALL have non-whitespace content)';
const SEARCH_PARAMETER_NO_BASE = 'SearchParameter.base is 1..* but missing';
const LOGICAL_MODEL_NO_BASE = 'sdf-4: not abstract, yet no baseDefinition (logical pattern model)';
// Generated v3 narratives link each code as href="#CODE" while its anchor is named "v3-<CodeSystem>-CODE":
// the fragment names nothing in the narrative or the resource (narrative.html; Element.id is for internal references).
const V3_NARRATIVE_LINKS = 'narrative links href="#CODE" resolve to nothing (the anchors are named "v3-<CodeSystem>-CODE")';
const CONCEPT_COMMENTS_ON_CODESYSTEM =
  'extension valueset-concept-comments on CodeSystem.concept; its R4 context is ValueSet.compose.include.concept';

export const KNOWN_INVALID_EXAMPLES: Record<string, string> = {
  'ActivityDefinition-blood-tubes-supply.json': EMPTY_NARRATIVE,
  'ActivityDefinition-heart-valve-replacement.json': EMPTY_NARRATIVE,
  'EventDefinition-example.json': EMPTY_NARRATIVE,
  'Questionnaire-zika-virus-exposure-assessment.json': EMPTY_NARRATIVE,
  'Bundle-10bb101f-a121-4264-a920-67be9cb82c74.json':
    "entry[2].fullUrl '.../Patient/pat12' but the resource is Patient/pat2",
  'Bundle-3a0707d3-549e-4467-b8b8-5a2ab3800efe.json':
    "entry[3].fullUrl '.../Patient/pat12' but the resource is Patient/pat2",
  'Bundle-lri-example.json': "fullUrls '.../Observation/lri-xxx' name resources whose id is 'xxx'",
  'Bundle-dataelements.json': 'bdl-7: the de-Quantity.* fullUrls appear twice (same versionId)',
  'Bundle-v2-valuesets.json': "CodeSystem v2-0550 has codes with trailing/only whitespace (e.g. 'CHEST\\u00a0'), not valid code",
  'CodeSystem-v2-0550.json': "codes with trailing/only whitespace (e.g. 'CHEST\\u00a0', ' '), not valid code",
  'ImplementationGuide-fhir.json': 'ImplementationGuide.name and .status (1..1) are missing',
  'Questionnaire-qs1.json': 'nested items lack linkId (1..1)',
  'SearchParameter-codesystem-extensions-CodeSystem-author.json': SEARCH_PARAMETER_NO_BASE,
  'SearchParameter-codesystem-extensions-CodeSystem-effective.json': SEARCH_PARAMETER_NO_BASE,
  'SearchParameter-codesystem-extensions-CodeSystem-end.json': SEARCH_PARAMETER_NO_BASE,
  'SearchParameter-codesystem-extensions-CodeSystem-keyword.json': SEARCH_PARAMETER_NO_BASE,
  'SearchParameter-codesystem-extensions-CodeSystem-workflow.json': SEARCH_PARAMETER_NO_BASE,
  'SearchParameter-valueset-extensions-ValueSet-author.json': SEARCH_PARAMETER_NO_BASE,
  'SearchParameter-valueset-extensions-ValueSet-effective.json': SEARCH_PARAMETER_NO_BASE,
  'SearchParameter-valueset-extensions-ValueSet-end.json': SEARCH_PARAMETER_NO_BASE,
  'SearchParameter-valueset-extensions-ValueSet-keyword.json': SEARCH_PARAMETER_NO_BASE,
  'SearchParameter-valueset-extensions-ValueSet-workflow.json': SEARCH_PARAMETER_NO_BASE,
  'SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json':
    'id is 67 characters; id allows at most 64',
  'StructureDefinition-Definition.json': LOGICAL_MODEL_NO_BASE,
  'StructureDefinition-Event.json': LOGICAL_MODEL_NO_BASE,
  'StructureDefinition-FiveWs.json': LOGICAL_MODEL_NO_BASE,
  'StructureDefinition-Request.json': LOGICAL_MODEL_NO_BASE,
  'DiagnosticReport-example-pgx.json':
    'presentedForm.hash is the hex SHA-1 of the base64 text; Attachment.hash is the base64 SHA-1 of the data (datatypes.html#Attachment)',
  'Observation-f202.json':
    'body temperature (LOINC 8310-5) without effective[x]; the vital-signs profiles, mandatory by code in R4, require it (observation.html#vitals)',
  'Bundle-valueset-expansions.json':
    'extension translation on ValueSet.expansion.contains; its R4 contexts are string, code and markdown (it belongs on _display)',
  'Bundle-valuesets.json': CONCEPT_COMMENTS_ON_CODESYSTEM,
  'CodeSystem-dicom-dcim.json': CONCEPT_COMMENTS_ON_CODESYSTEM,
  'Bundle-hla-1.json': "extension hla-genotyping-results-glstring has a sub-extension 'uri'; its definition names them 'url' and 'text'",
  'Bundle-v3-valuesets.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-ActCode.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-ActReason.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-ActRelationshipType.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-CalendarCycle.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-ContextControl.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-EntityCode.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-EntityNamePartQualifier.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-NullFlavor.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-ObservationInterpretation.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-RoleCode.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-RouteOfAdministration.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-hl7Realm.json': V3_NARRATIVE_LINKS,
  'CodeSystem-v3-orderableDrugForm.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-ActCode.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-ActReason.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-ActRelationshipType.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-CalendarCycle.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-ContextControl.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-EntityCode.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-EntityNamePartQualifier.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-NullFlavor.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-ObservationInterpretation.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-RoleCode.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-RouteOfAdministration.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-hl7Realm.json': V3_NARRATIVE_LINKS,
  'ValueSet-v3-orderableDrugForm.json': V3_NARRATIVE_LINKS,
};
