import type { Socket } from 'node:net';
import { FhirError } from '../errors/fhir-error';
import { outcomeFromError } from '../errors/operation-outcome';
import { FHIR_JSON } from './send';

/**
 * Requests node's HTTP parser refuses before express sees them (a 100 KB URL, oversized headers,
 * a malformed request line, a request that arrives too slowly) are answered here. Node's own
 * answer has no body; every error of this server is an OperationOutcome.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const error = clientErrorOf(err.code);
  const body = JSON.stringify(outcomeFromError(error));
  const reason = REASONS[error.status] ?? 'Bad Request';
  socket.end(
    `HTTP/1.1 ${error.status} ${reason}\r\n` +
      `Content-Type: ${FHIR_JSON}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      'Connection: close\r\n\r\n' +
      body,
  );
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Payload Too Large', 431: 'Request Header Fields Too Large' };

function clientErrorOf(code: string | undefined): FhirError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return FhirError.of(431, 'too-long', 'The request line or headers are too large (the URL included); send long searches as POST [type]/_search', {
        code: 'NHIS-1431',
      });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return FhirError.of(408, 'timeout', 'The request did not arrive in time', { code: 'NHIS-1408' });
    default:
      return FhirError.badRequest('Malformed HTTP request', { code: 'NHIS-1000' });
  }
}
