import type { Response } from 'express';
import { stringifyJson } from '../shared/json';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).setHeader('Content-Type', FHIR_JSON);
  res.end(stringifyJson(body));
}

export function sendRaw(res: Response, status: number, text: string): void {
  res.status(status).setHeader('Content-Type', FHIR_JSON);
  res.end(text);
}
