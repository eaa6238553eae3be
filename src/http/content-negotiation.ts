import type { NextFunction, Request, Response } from 'express';
import { FhirError } from '../errors/fhir-error';

const XML = /xml/i;
const JSON_TYPES = /^(application\/(fhir\+)?json|application\/json-patch\+json|application\/x-www-form-urlencoded)$/i;

/** JSON only: XML in Content-Type, Accept or `_format` answers 415; other body types too. */
export function contentNegotiation(req: Request, _res: Response, next: NextFunction): void {
  const format = typeof req.query._format === 'string' ? req.query._format : undefined;
  if (format && XML.test(format)) return next(FhirError.unsupportedMediaType('This server speaks FHIR JSON only; XML is not supported'));
  const accept = req.header('accept');
  if (accept && XML.test(accept) && !/json|\*\/\*/i.test(accept)) {
    return next(FhirError.unsupportedMediaType('This server speaks FHIR JSON only; XML is not supported'));
  }
  const contentType = req.header('content-type');
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  if (!contentType) {
    // Without a media type the body cannot be read as anything; naming the one to send saves a round of guessing.
    if (hasBody(req)) return next(FhirError.unsupportedMediaType('The request has a body but no Content-Type; send Content-Type: application/fhir+json'));
    return next();
  }
  const base = contentType.split(';')[0].trim();
  if (XML.test(base)) return next(FhirError.unsupportedMediaType('This server accepts FHIR JSON only; XML is not supported'));
  if (base && !JSON_TYPES.test(base)) {
    return next(FhirError.unsupportedMediaType(`Unsupported Content-Type '${base}'; send application/fhir+json`));
  }
  // A form is search criteria (POST [type]/_search); anywhere else it is curl's default for -d, not a resource.
  if (FORM.test(base) && hasBody(req) && !req.path.endsWith('/_search')) {
    return next(
      FhirError.unsupportedMediaType(
        `Content-Type '${base}' is accepted only by POST [type]/_search; send the resource as application/fhir+json (curl: -H 'Content-Type: application/fhir+json')`,
      ),
    );
  }
  next();
}

const FORM = /^application\/x-www-form-urlencoded$/i;

function hasBody(req: Request): boolean {
  const length = req.header('content-length');
  return (length !== undefined && length !== '0') || req.header('transfer-encoding') !== undefined;
}
