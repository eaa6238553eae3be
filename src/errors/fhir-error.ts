import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

/** One problem, in the shape of an OperationOutcome issue. */
export interface Issue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  /** FHIR issue-type code (https://hl7.org/fhir/R4/valueset-issue-type.html). */
  code: OperationOutcomeIssue['code'];
  diagnostics: string;
  /** FHIRPath into the request, e.g. `Observation.status`. */
  expression?: string[];
  /** Stable error code, `NHIS-####`, that integrators can look up. */
  nhisCode?: string;
}

interface ErrorOptions {
  code?: string;
  expression?: string[];
  headers?: Record<string, string>;
}

/**
 * The one error type of the system. The HTTP status lives here, never guessed
 * later; `errors/operation-outcome.ts` turns it into an OperationOutcome.
 */
export class FhirError extends Error {
  readonly status: number;
  readonly issues: Issue[];
  readonly headers: Record<string, string>;

  constructor(status: number, issues: Issue[], headers: Record<string, string> = {}) {
    super(issues.map((i) => i.diagnostics).join('; ') || `HTTP ${status}`);
    this.name = 'FhirError';
    this.status = status;
    this.issues = issues;
    this.headers = headers;
  }

  static of(status: number, issueCode: Issue['code'], message: string, opts: ErrorOptions = {}): FhirError {
    return new FhirError(
      status,
      [{ severity: 'error', code: issueCode, diagnostics: message, expression: opts.expression, nhisCode: opts.code }],
      opts.headers,
    );
  }

  static badRequest(message: string, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(400, 'invalid', message, { code: 'NHIS-1000', ...opts });
  }
  /** 401: no usable credential; `headers` should carry `WWW-Authenticate`. */
  static unauthorized(message: string, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(401, 'login', message, { code: 'NHIS-1401', ...opts });
  }
  /** 403: a valid credential without the scope or role for this request. */
  static forbidden(message: string, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(403, 'forbidden', message, { code: 'NHIS-1403', ...opts });
  }
  static tooManyRequests(message: string, retryAfterSeconds: number, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(429, 'throttled', message, {
      code: 'NHIS-1429',
      ...opts,
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))), ...(opts.headers ?? {}) },
    });
  }
  static notFound(message: string, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(404, 'not-found', message, { code: 'NHIS-1404', ...opts });
  }
  static gone(message: string, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(410, 'deleted', message, { code: 'NHIS-1410', ...opts });
  }
  static methodNotAllowed(message: string, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(405, 'not-supported', message, { code: 'NHIS-1405', ...opts });
  }
  static conflict(message: string, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(409, 'conflict', message, { code: 'NHIS-1409', ...opts });
  }
  static preconditionFailed(message: string, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(412, 'conflict', message, { code: 'NHIS-1412', ...opts });
  }
  static tooLarge(message: string, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(413, 'too-costly', message, { code: 'NHIS-1413', ...opts });
  }
  static unsupportedMediaType(message: string, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(415, 'not-supported', message, { code: 'NHIS-1415', ...opts });
  }
  static unprocessable(message: string, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(422, 'processing', message, { code: 'NHIS-1422', ...opts });
  }
  static unavailable(message: string, opts: ErrorOptions = {}): FhirError {
    return FhirError.of(503, 'transient', message, {
      code: 'NHIS-1503',
      ...opts,
      headers: { 'Retry-After': '1', ...(opts.headers ?? {}) },
    });
  }
}

export function isFhirError(err: unknown): err is FhirError {
  return err instanceof FhirError;
}
