import { FHIR_ROUTES, type FhirRoute } from '../../src/fhir/routes';
import { SERVICE_ROUTES } from '../../src/http/route-catalog';
import { buildOpenApiDocument, type BuildOptions } from './document';
import type { OpenApiDocument } from './types';

/**
 * The short "national API" description (`openapi-national.yaml`): what a hospital, pharmacy or
 * registry client builds its calls from, without the 146 resource types of the full document.
 * The same generator over a subset of the route tables, so it cannot drift from what is served.
 */

/** Registries, the ePrescription resources, and the definitions of the operations. */
export const NATIONAL_TYPES = ['Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Location', 'HealthcareService', 'MedicationRequest', 'Task', 'MedicationDispense', 'OperationDefinition'];
const WORKFLOW_OPERATIONS = new Set(['prescribe', 'timeline', 'accept', 'reject', 'dispense', 'close', 'abort', 'match', 'merge', 'ihe-pix']);
const SERVICE_PATHS = new Set(['/metadata', '/auth/token', '/.well-known/jwks.json', '/.well-known/smart-configuration', '/openapi.yaml', '/openapi-national.yaml', '/docs']);

function isNational(route: FhirRoute): boolean {
  if (route.interaction === 'transaction') return true;
  if (route.operation) return WORKFLOW_OPERATIONS.has(route.operation);
  if (route.method !== 'GET' || (route.interaction !== 'read' && route.interaction !== 'search-type')) return false;
  // Reads of one literal type (/OperationDefinition/:id) only where that type is national.
  const first = route.path.split('/')[1] ?? '';
  return first.startsWith(':') || NATIONAL_TYPES.includes(first);
}

const DESCRIPTION = `The national workflows of OpenNHIS, the national health information exchange (HL7 FHIR R4, JSON):
what a hospital, a prescriber, a pharmacy or a registry client calls. The full description of every
resource type and interaction is \`/openapi.yaml\`; \`GET /metadata\` is the CapabilityStatement.

- **Get a token**: register your system's public key, then \`POST /auth/token\` with a client assertion you
  sign (OAuth 2.0 client credentials, \`private_key_jwt\`; see the \`smartBackendServices\` scheme).
  Send it as \`Authorization: Bearer <token>\`.
- **Send an episode**: \`POST /\` with a \`transaction\` Bundle; reference the patient and your facility by
  national identifier (\`Patient?identifier=http://opennhis.org/fhir/sid/bg-egn|...\`).
- **Prescribe**: \`POST /MedicationRequest/$prescribe\`; the answer holds the access code once.
- **Dispense**: find the prescription and its Task (\`GET /MedicationRequest?identifier=...&_revinclude=Task:focus\`),
  \`POST /Task/{id}/$accept?ac=...\`, then \`$close?secret=...\` with the MedicationDispense.
- **Registries**: search Patient, Practitioner, PractitionerRole, Organization, Location, HealthcareService by
  their national identifiers; \`Patient/$match\`, \`$ihe-pix\` and \`$merge\` for identity.
- **Errors** are OperationOutcomes with a stable \`NHIS-####\` code; the operations' parameters are also
  published as OperationDefinitions (\`GET /OperationDefinition/Task-accept\`, ...).
`;

export function buildNationalOpenApiDocument(opts: Pick<BuildOptions, 'version' | 'searchParameters'> = {}): OpenApiDocument {
  return buildOpenApiDocument({
    ...opts,
    resourceTypes: NATIONAL_TYPES,
    routes: FHIR_ROUTES.filter(isNational),
    serviceRoutes: SERVICE_ROUTES.filter((r) => SERVICE_PATHS.has(r.path)),
    info: { title: 'OpenNHIS national API', summary: 'The national workflows: registries, transactions, ePrescription', description: DESCRIPTION },
  });
}
