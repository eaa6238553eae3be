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
  if (contentType && req.method !== 'GET' && req.method !== 'HEAD') {
    const base = contentType.split(';')[0].trim();
    if (XML.test(base)) return next(FhirError.unsupportedMediaType('This server accepts FHIR JSON only; XML is not supported'));
    if (base && !JSON_TYPES.test(base)) {
      return next(FhirError.unsupportedMediaType(`Unsupported Content-Type '${base}'; send application/fhir+json`));
    }
  }
  next();
}
