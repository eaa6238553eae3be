/** National registry code systems (NamingSystems in fhir-profiles/), shared by every layer that names them. */
export const PRACTITIONER_NUMBER_SYSTEM = 'http://opennhis.org/fhir/sid/practitioner-number';
export const FACILITY_CODE_SYSTEM = 'http://opennhis.org/fhir/sid/facility-code';
export const LOCATION_CODE_SYSTEM = 'http://opennhis.org/fhir/sid/location-code';
/** Organization.type codes: hospital, gp-practice, specialist-practice, pharmacy, laboratory. */
export const FACILITY_TYPE_SYSTEM = 'http://opennhis.org/fhir/CodeSystem/facility-type';
