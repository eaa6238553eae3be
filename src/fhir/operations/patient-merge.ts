// Patient/$merge — the R5 patient-merge operation (https://build.fhir.org/patient-operation-merge.html),
// adapted to R4: both new versions are written in one transaction; nothing is deleted.
import type { Identifier, OperationOutcome, Parameters, ParametersParameter, Patient, Reference } from '@medplum/fhirtypes';
import { mergePatientRecords } from '../../domain/identity/patient-merge';
import { FhirError } from '../../errors/fhir-error';
import { findActivePatients } from './patient-lookup';
import { parseJson } from '../../shared/json';
import type { AccessScope } from '../../store/access/access-scope';
import { lockResource } from '../../store/read';
import { inTransaction, type Tx } from '../../store/transaction';
import { updateResource } from '../../store/write/write-resources';
import { scopeOf, writerOf } from '../access';
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../request';
import type { ResourceBody } from '../../store/resource-body';
import { assertValid } from '../../store/write/validate-resource';
import { booleanParam, paramPath, requireParameters, type InputParameters } from './operation-parameters';

type Side = 'source' | 'target';

interface PatientSelector {
  side: Side;
  index: number;
  reference?: string;
  identifiers?: Identifier[];
}

function selectorOf(params: InputParameters, side: Side): PatientSelector {
  const ref = params.find(`${side}-patient`);
  const ident = params.find(`${side}-patient-identifier`);
  if (ref) {
    const reference = (ref.param.valueReference as Reference | undefined)?.reference;
    if (typeof reference !== 'string') {
      throw FhirError.badRequest(`Parameter '${side}-patient' must be a valueReference with a reference`, {
        code: 'NHIS-3111',
        expression: [paramPath(ref.index, 'valueReference')],
      });
    }
    return { side, index: ref.index, reference };
  }
  if (ident) {
    const identifier = ident.param.valueIdentifier;
    if (!identifier?.system || !identifier.value) {
      throw FhirError.badRequest(`Parameter '${side}-patient-identifier' must be a valueIdentifier with system and value`, {
        code: 'NHIS-3111',
        expression: [paramPath(ident.index, 'valueIdentifier')],
      });
    }
    return { side, index: ident.index, identifiers: [identifier] };
  }
  throw FhirError.badRequest(`Parameter '${side}-patient' or '${side}-patient-identifier' is required`, {
    code: 'NHIS-3110',
    expression: ['Parameters.parameter'],
  });
}

async function resolveId(scope: AccessScope, tx: Tx, sel: PatientSelector): Promise<string> {
  const where = paramPath(sel.index);
  if (sel.reference !== undefined) {
    const m = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(sel.reference);
    if (!m) throw FhirError.badRequest(`'${sel.reference}' is not a Patient reference`, { code: 'NHIS-3111', expression: [where] });
    return m[1];
  }
  const criteria = new URLSearchParams();
  for (const i of sel.identifiers!) criteria.append('identifier', `${i.system}|${i.value}`);
  const found = await findActivePatients(tx, scope, criteria);
  const ids = found.map((p) => p.id);
  if (ids.length !== 1) {
    throw FhirError.unprocessable(`The ${sel.side} identifier matches ${ids.length === 0 ? 'no' : 'more than one'} active Patient`, {
      code: 'NHIS-3112',
      expression: [where],
    });
  }
  return ids[0];
}

async function loadActive(tx: Tx, scope: AccessScope, id: string, sel: PatientSelector): Promise<{ patient: Patient & { id: string }; versionId: number }> {
  const stored = await lockResource(tx, scope, 'Patient', id);
  if (!stored || stored.deleted || stored.content === null) {
    throw FhirError.notFound(`The ${sel.side} Patient/${id} does not exist`, { code: 'NHIS-3113', expression: [paramPath(sel.index)] });
  }
  const patient = parseJson(stored.content) as Patient & { id: string };
  if (patient.active === false) {
    throw FhirError.unprocessable(`The ${sel.side} Patient/${id} is inactive (already merged or deregistered)`, {
      code: 'NHIS-3114',
      expression: [paramPath(sel.index)],
    });
  }
  return { patient, versionId: stored.versionId };
}

export async function patientMerge(ctx: FhirContext, req: FhirRequest): Promise<FhirResponse> {
  const params = requireParameters(req.body);
  const source = selectorOf(params, 'source');
  const target = selectorOf(params, 'target');
  const preview = booleanParam(params, 'preview') ?? false;
  if (booleanParam(params, 'delete-source') === true) {
    const at = params.find('delete-source')!;
    throw FhirError.unprocessable('delete-source is not supported: a merge never deletes the source', {
      code: 'NHIS-3115',
      expression: [paramPath(at.index)],
    });
  }
  const resultPatient = params.find('result-patient');
  if (resultPatient) {
    throw FhirError.unprocessable('result-patient is not supported; the target is updated by the merge rules', {
      code: 'NHIS-3115',
      expression: [paramPath(resultPatient.index)],
    });
  }

  const scope = scopeOf(ctx, req);
  const writer = { ...writerOf(req), scope };
  const result = await inTransaction(ctx.db, async (tx) => {
    const sourceId = await resolveId(scope, tx, source);
    const targetId = await resolveId(scope, tx, target);
    if (sourceId === targetId) {
      throw FhirError.badRequest(`Source and target are the same Patient/${sourceId}`, { code: 'NHIS-3116', expression: [paramPath(target.index)] });
    }
    // Lock in id order so two crossing merges cannot deadlock.
    const [first, second] = sourceId < targetId ? [source, target] : [target, source];
    const a = await loadActive(tx, scope, first === source ? sourceId : targetId, first);
    const b = await loadActive(tx, scope, second === source ? sourceId : targetId, second);
    const [src, tgt] = first === source ? [a, b] : [b, a];
    const merged = mergePatientRecords(src.patient, tgt.patient);
    assertValid(ctx, merged.source as ResourceBody);
    assertValid(ctx, merged.target as ResourceBody);
    if (preview) return merged.target;
    // Source first: becoming inactive releases its national ids, which the target then claims.
    await updateResource(ctx, tx, writer, merged.source as ResourceBody, sourceId, src.versionId);
    const { written } = await updateResource(ctx, tx, writer, merged.target as ResourceBody, targetId, tgt.versionId);
    return written.resource as Patient;
  });

  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'information',
        code: 'informational',
        diagnostics: preview ? 'Preview only: nothing was changed' : `Merged ${result.link?.at(-1)?.other?.reference} into Patient/${result.id}`,
      },
    ],
  };
  const out: ParametersParameter[] = [
    { name: 'input', resource: req.body as Parameters },
    { name: 'outcome', resource: outcome },
    { name: 'result', resource: result },
  ];
  return { status: 200, body: { resourceType: 'Parameters', parameter: out } satisfies Parameters };
}
