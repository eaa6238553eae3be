/** The part of OpenAPI 3.1 (https://spec.openapis.org/oas/v3.1.0) that the generator writes. */

/** A JSON Schema (2020-12, the OpenAPI 3.1 dialect); kept open on purpose. */
export type Schema = { [keyword: string]: unknown };

/** A type, not an interface, so that a reference is also a Schema. */
export type Ref = { $ref: string };

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  description: string;
  required?: boolean;
  style?: 'form' | 'simple';
  explode?: boolean;
  schema: Schema;
}

export interface Header {
  description: string;
  schema: Schema;
}

export interface MediaType {
  schema: Schema;
  example?: unknown;
  examples?: Record<string, { summary?: string; description?: string; value: unknown }>;
}

export interface Response {
  description: string;
  headers?: Record<string, Ref>;
  content?: Record<string, MediaType>;
}

export interface RequestBody {
  description: string;
  required: boolean;
  content: Record<string, MediaType>;
}

export interface Operation {
  tags: string[];
  summary: string;
  description: string;
  operationId: string;
  /** `[]` for a public route; absent: the document's default (a bearer token). */
  security?: SecurityRequirement[];
  parameters?: (Parameter | Ref)[];
  requestBody?: RequestBody | Ref;
  /** By status code, or `default`. */
  responses: Record<string, Response | Ref>;
}

/** In the order the OpenAPI specification lists them, which is the order we write them. */
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export type PathItem = { parameters?: (Parameter | Ref)[] } & { [M in HttpMethod]?: Operation };

export interface Tag {
  name: string;
  description: string;
  externalDocs?: { url: string; description?: string };
}

export type SecurityRequirement = Record<string, string[]>;

export type SecurityScheme =
  | { type: 'http'; scheme: 'bearer'; bearerFormat: string; description: string }
  | { type: 'oauth2'; description: string; flows: { clientCredentials: { tokenUrl: string; scopes: Record<string, string> } } };

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: {
    title: string;
    version: string;
    summary: string;
    description: string;
    license: { name: string; identifier: string };
  };
  servers: { url: string; description: string }[];
  security: SecurityRequirement[];
  tags: Tag[];
  paths: Record<string, PathItem>;
  components: {
    securitySchemes: Record<string, SecurityScheme>;
    parameters: Record<string, Parameter>;
    headers: Record<string, Header>;
    requestBodies: Record<string, RequestBody>;
    responses: Record<string, Response>;
    schemas: Record<string, Schema>;
  };
}
