import { informationOutcome, outcomeOf } from '../errors/operation-outcome';
import type { StoredVersion } from '../store/read';
import type { WrittenVersion } from '../store/write/write-resources';
import { etag } from './preconditions';
import type { FhirRequest, FhirResponse } from './request';

export type PreferReturn = 'minimal' | 'representation' | 'OperationOutcome';

/** https://hl7.org/fhir/R4/http.html#ops — `Prefer: return=...`, representation by default. */
export function preferReturn(headers: Record<string, string | undefined>): PreferReturn {
  const m = /(?:^|[;,\s])return\s*=\s*"?(minimal|representation|OperationOutcome)"?/i.exec(headers['prefer'] ?? '');
  if (!m) return 'representation';
  const v = m[1].toLowerCase();
  return v === 'minimal' ? 'minimal' : v === 'operationoutcome' ? 'OperationOutcome' : 'representation';
}

export function versionHeaders(v: { versionId: number; lastUpdated: Date }): Record<string, string> {
  return { ETag: etag(v.versionId), 'Last-Modified': v.lastUpdated.toUTCString() };
}

export function versionLocation(baseUrl: string, v: { resourceType: string; id: string; versionId: number }): string {
  return `${baseUrl}/${v.resourceType}/${v.id}/_history/${v.versionId}`;
}

/**
 * The answer to a create or update, shaped by `Prefer: return`. A `warning` travels in the
 * OperationOutcome (`return=OperationOutcome`) and, whatever the body, in a `Warning` header.
 */
export function writtenResponse(req: FhirRequest, written: WrittenVersion, status: 200 | 201, message: string, warning?: string): FhirResponse {
  const headers: Record<string, string> = { ...versionHeaders(written) };
  if (warning) headers.Warning = `199 - "${warning.replace(/["\\]/g, '')}"`;
  if (status === 201) headers.Location = versionLocation(req.baseUrl, written);
  else headers['Content-Location'] = versionLocation(req.baseUrl, written);
  switch (preferReturn(req.headers)) {
    case 'minimal':
      return { status, headers };
    case 'OperationOutcome':
      return { status, headers, body: warning ? outcomeOf([{ severity: 'information', code: 'informational', diagnostics: message }, { severity: 'warning', code: 'informational', diagnostics: warning, nhisCode: 'NHIS-1030' }]) : informationOutcome(message) };
    default:
      return { status, headers, rawBody: written.text };
  }
}

/** A stored version served exactly as stored. */
export function storedResponse(stored: StoredVersion): FhirResponse {
  return { status: 200, headers: versionHeaders(stored), rawBody: stored.content ?? undefined };
}
