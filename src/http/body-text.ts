import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { FhirError } from '../errors/fhir-error';

/**
 * A request body's bytes as text. FHIR bodies are UTF-8 (https://hl7.org/fhir/R4/http.html#mime-type);
 * bytes that are not valid UTF-8 are a 400, never replaced by U+FFFD and stored. A client that
 * declares another charset gets its text decoded as declared (ISO-8859-1 as true Latin-1, others
 * through the WHATWG decoders), and an undecodable body or an unknown charset is refused.
 */
export function decodeBodyText(bytes: Buffer, contentType: string | undefined): string {
  const charset = charsetOf(contentType);
  if (charset === undefined || charset === 'utf-8' || charset === 'utf8') {
    if (!isUtf8(bytes)) throw FhirError.badRequest('The request body is not valid UTF-8', { code: 'NHIS-1009' });
    // A byte order mark is tolerated (some Windows tools write one) and is not part of the JSON.
    const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    return bytes.toString('utf8', start);
  }
  if (charset === 'iso-8859-1' || charset === 'latin1' || charset === 'l1' || charset === 'iso_8859-1') return bytes.toString('latin1');
  if (charset === 'us-ascii' || charset === 'ascii') {
    if (bytes.some((b) => b > 0x7f)) throw FhirError.badRequest('The request body is declared US-ASCII but holds other bytes', { code: 'NHIS-1009' });
    return bytes.toString('latin1');
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    throw FhirError.unsupportedMediaType(`Unsupported charset '${charset.slice(0, 40)}'; send UTF-8`);
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw FhirError.badRequest(`The request body is not valid ${charset}`, { code: 'NHIS-1009' });
  }
}

function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType ?? '');
  return m ? m[2].toLowerCase() : undefined;
}
