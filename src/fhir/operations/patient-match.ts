// Patient/$match — https://hl7.org/fhir/R4/patient-operation-match.html,
// profiled by IHE PDQm ITI-119 (https://profiles.ihe.net/ITI/PDQm/ITI-119.html).
import type { Bundle, BundleEntry, Patient } from '@medplum/fhirtypes';
import {
  candidateQueries,
  isMatchable,
  isReportable,
  scorePatientMatch,
  withDemographicsFromNationalIds,
  type MatchGrade,
} from '../../domain/identity/patient-match';
import { checkNationalIdentifiers } from '../../domain/identity/national-identifiers';
import { FhirError } from '../../errors/fhir-error';
import { parseJson } from '../../shared/json';
import { readResources } from '../../store/read';
import { matchResourceIds } from '../../store/search/search-resources';
import { scopeOf } from '../access';
import { schemesByName } from '../../shared/national-id';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import { booleanParam, integerParam, paramPath, requireParameters } from './operation-parameters';

export const MATCH_GRADE_URL = 'http://hl7.org/fhir/StructureDefinition/match-grade';
const DEFAULT_COUNT = 10;
const CANDIDATES_PER_QUERY = 200;

export async function patientMatch(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const params = requireParameters(req.body);
  const found = params.find('resource');
  if (!found) throw FhirError.badRequest("Parameter 'resource' (a Patient) is required", { code: 'NHIS-3102', expression: ['Parameters.parameter'] });
  const query = found.param.resource as Patient | undefined;
  if (!query || query.resourceType !== 'Patient') {
    throw FhirError.badRequest("Parameter 'resource' must hold a Patient", { code: 'NHIS-3102', expression: [paramPath(found.index, 'resource')] });
  }
  const onlyCertain = booleanParam(params, 'onlyCertainMatches') ?? false;
  const count = integerParam(params, 'count', 1, 100) ?? DEFAULT_COUNT;
  const schemes = schemesByName(ctx.config.nationalIdSchemes);
  const issues = checkNationalIdentifiers(query as Patient & { resourceType: string }, schemes, paramPath(found.index, 'resource'));
  if (issues.length > 0) throw new FhirError(400, issues);
  if (!query.identifier?.length && !query.name?.length && !query.birthDate) {
    throw FhirError.badRequest('The Patient needs at least an identifier, a name or a birth date to match on', {
      code: 'NHIS-3103',
      expression: [paramPath(found.index, 'resource')],
    });
  }

  const enriched = withDemographicsFromNationalIds(query, schemes);
  const scope = scopeOf(ctx, req);
  const ids = new Set<string>();
  for (const criteria of candidateQueries(enriched)) {
    for (const id of await matchResourceIds(ctx.db, scope, 'Patient', criteria, CANDIDATES_PER_QUERY)) ids.add(id);
  }
  const rows = await readResources(ctx.db, scope, 'Patient', [...ids]);
  const scored: { patient: Patient; score: number; grade: MatchGrade }[] = [];
  for (const row of rows.values()) {
    if (row.deleted || row.content === null) continue;
    const patient = parseJson(row.content) as Patient;
    if (!isMatchable(patient)) continue;
    const match = scorePatientMatch(enriched, patient, schemes);
    if (isReportable(match)) scored.push({ patient, score: match.score, grade: match.grade });
  }
  scored.sort((a, b) => b.score - a.score || String(a.patient.id).localeCompare(String(b.patient.id)));

  let results = scored;
  if (onlyCertain) {
    const certain = scored.filter((s) => s.grade === 'certain');
    results = certain.length === 1 ? certain : [];
  }
  results = results.slice(0, count);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: results.length,
    entry: results.map(
      (r): BundleEntry => ({
        fullUrl: `${req.baseUrl}/Patient/${r.patient.id}`,
        resource: r.patient,
        search: { mode: 'match', score: r.score, extension: [{ url: MATCH_GRADE_URL, valueCode: r.grade }] },
      }),
    ),
  };
  return { status: 200, body: bundle };
}

