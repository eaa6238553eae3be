/**
 * A deterministic demo country (issue 5, item 7): planning regions, facilities
 * (hospitals with wards, GP practices, specialist practices, pharmacies,
 * laboratories) with their sites and services, practitioners with roles, and
 * patients with valid EGNs, all conforming to the national profiles in
 * fhir-profiles/. Same options, same data: a seeded PRNG drives every choice.
 *
 * Every entry is an upsert keyed by a business identifier
 * (`PUT Type?identifier=system|value`): national facility, location and
 * practitioner codes and EGNs; roles and services, which have no national
 * number, carry a demo key (DEMO_KEY_SYSTEM). References inside one Bundle use
 * `urn:uuid:` fullUrls; references to entries of another Bundle are conditional
 * references by the same identifier, so each Bundle stands on its own.
 */
import { generateEgn } from '../domain/identity/egn-generator';
import { FACILITY_CODE_SYSTEM, FACILITY_TYPE_SYSTEM, LOCATION_CODE_SYSTEM, PRACTITIONER_NUMBER_SYSTEM } from '../domain/registry/registry-systems';
import { bgEgn } from '../shared/national-id/bg-egn';
import { createPrng } from '../shared/prng';
import {
  CITIES, FAMILY, FEMALE_GIVEN, HOSPITAL_SAINTS, HOSPITAL_SPECIALTIES, LAB_NAMES, MALE_GIVEN, OUTPATIENT_SPECIALTIES, PHARMACY_NAMES,
  REGIONS, STREETS, WARDS, familyFor, patronymic, transliterate, type DemoCity,
} from './bg-data';

export const EGN_SYSTEM = bgEgn.system;
export const SPECIALTY_SYSTEM = 'http://opennhis.org/fhir/CodeSystem/specialty';
/** Key of generated roles and services (they have no national number), so a second seed finds them. */
export const DEMO_KEY_SYSTEM = 'http://opennhis.org/fhir/sid/demo-key';
const PRACTITIONER_ROLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/practitioner-role';
const ROLE_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
const PHYSICAL_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/location-physical-type';
const SERVICE_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/service-category';

export type FacilityType = 'hospital' | 'gp-practice' | 'specialist-practice' | 'pharmacy' | 'laboratory';

export interface DemoCountryOptions {
  /** PRNG seed: the same seed and sizes give the same country. */
  seed: number;
  /** Planning regions, 1 to 6. */
  regions: number;
  /** Facilities (Organizations) of every type, pharmacies included. */
  facilities: number;
  pharmacies: number;
  practitioners: number;
  patients: number;
}

export const DEFAULT_DEMO_SIZES: DemoCountryOptions = { seed: 20260101, regions: 6, facilities: 300, pharmacies: 80, practitioners: 3000, patients: 3000 };

type Json = Record<string, unknown>;

/** One upsert of the demo country; `url` (`Type?identifier=…`) is both the PUT target and the conditional reference to it. */
export interface DemoEntry {
  fullUrl: string;
  resourceType: string;
  url: string;
  resource: Json;
}

export interface DemoExamples {
  hospital: { code: string; name: string };
  pharmacy: { code: string; name: string };
  gpPractitionerNumber: string;
  patientEgns: string[];
}

export interface DemoCountry {
  options: DemoCountryOptions;
  /** In dependency order: regions, facilities with sites, wards and services, practitioners with roles, patients. */
  entries: DemoEntry[];
  counts: Record<string, number>;
  facilitiesByType: Record<FacilityType, number>;
  examples: DemoExamples;
}

interface Facility {
  type: FacilityType;
  code: string;
  name: string;
  city: DemoCity;
  fullUrl: string;
  url: string;
  site: { fullUrl: string; url: string };
  wards: { fullUrl: string; url: string; specialty: string }[];
  services: { fullUrl: string; url: string; specialty: string }[];
  specialties: string[];
  /** GP and specialist practices are named after their first doctor. */
  lead?: Person;
}

interface Person {
  gender: 'male' | 'female';
  given: string;
  father: string;
  family: string;
}

const TYPE_DIGIT: Record<FacilityType, string> = { hospital: '1', 'gp-practice': '2', 'specialist-practice': '3', laboratory: '4', pharmacy: '5' };
const TYPE_DISPLAY: Record<FacilityType, string> = {
  hospital: 'Hospital',
  'gp-practice': 'General practice',
  'specialist-practice': 'Specialist practice',
  pharmacy: 'Pharmacy',
  laboratory: 'Laboratory',
};
const SITE_TYPE: Record<FacilityType, [string, string]> = {
  hospital: ['HOSP', 'Hospital'],
  'gp-practice': ['PC', 'Primary care clinic'],
  'specialist-practice': ['OF', 'Outpatient facility'],
  pharmacy: ['PHARM', 'Pharmacy'],
  laboratory: ['OUTLAB', 'outpatient laboratory'],
};
const SPECIALTY_DISPLAY: Record<string, string> = {
  'general-practice': 'General practice', 'internal-medicine': 'Internal medicine', cardiology: 'Cardiology', pediatrics: 'Paediatrics',
  'general-surgery': 'General surgery', 'obstetrics-gynecology': 'Obstetrics and gynaecology', neurology: 'Neurology', psychiatry: 'Psychiatry',
  dermatology: 'Dermatology', ophthalmology: 'Ophthalmology', otorhinolaryngology: 'Otorhinolaryngology', orthopedics: 'Orthopaedics and traumatology',
  radiology: 'Radiology', 'laboratory-medicine': 'Laboratory medicine', oncology: 'Oncology', endocrinology: 'Endocrinology', pulmonology: 'Pulmonology',
  gastroenterology: 'Gastroenterology', urology: 'Urology', nephrology: 'Nephrology', anesthesiology: 'Anaesthesiology and intensive care',
  'emergency-medicine': 'Emergency medicine', pharmacy: 'Pharmacy (pharmacist)',
};

const specialtyConcept = (code: string) => ({ coding: [{ system: SPECIALTY_SYSTEM, code, display: SPECIALTY_DISPLAY[code] }] });
const conditionalUrl = (type: string, system: string, value: string) => `${type}?identifier=${encodeURIComponent(`${system}|${value}`)}`;
const pad = (n: number, width: number) => String(n).padStart(width, '0');

function checkOptions(o: DemoCountryOptions): void {
  const whole = (name: keyof DemoCountryOptions, min: number, max: number) => {
    const v = o[name];
    if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`demo country: ${name} must be an integer from ${min} to ${max}, not ${v}`);
  };
  whole('seed', 0, 2 ** 32 - 1);
  whole('regions', 1, REGIONS.length);
  whole('pharmacies', 1, 10_000);
  whole('facilities', o.pharmacies + 4, 50_000);
  whole('practitioners', 1, 1_000_000);
  whole('patients', 0, 10_000_000);
}

/** Builds the whole demo country in memory (a few MB at the default size). */
export function generateDemoCountry(options: Partial<DemoCountryOptions> = {}): DemoCountry {
  const o: DemoCountryOptions = { ...DEFAULT_DEMO_SIZES, ...options };
  checkOptions(o);
  const rand = createPrng(o.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
  /** A picker by weight (cumulative sums, binary search): called thousands of times over the same items. */
  const weightedPicker = <T>(items: readonly T[], weight: (t: T) => number): (() => T) => {
    const cumulative: number[] = [];
    let total = 0;
    for (const t of items) cumulative.push((total += weight(t)));
    return () => {
      const r = rand() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid] > r) hi = mid;
        else lo = mid + 1;
      }
      return items[lo];
    };
  };
  const hex8 = () => (Math.floor(rand() * 2 ** 32) >>> 0).toString(16).padStart(8, '0');
  const uuid = () => {
    const a = hex8();
    const b = hex8();
    const c = hex8();
    return `urn:uuid:${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${'89ab'[Math.floor(rand() * 4)]}${c.slice(1, 4)}-${c.slice(4, 8)}${hex8()}`;
  };
  const entries: DemoEntry[] = [];
  const counts: Record<string, number> = {};
  const add = (resourceType: string, fullUrl: string, url: string, resource: Json) => {
    entries.push({ fullUrl, resourceType, url, resource: { resourceType, ...resource } });
    counts[resourceType] = (counts[resourceType] ?? 0) + 1;
  };

  const regions = REGIONS.slice(0, o.regions);
  const cities = CITIES.filter((c) => regions.some((r) => r.code === c.region));
  const randomCity = weightedPicker(cities, (c) => c.population ** 0.75);
  const cityName = (c: DemoCity) => transliterate(c.cyrillic);
  const person = (gender?: 'male' | 'female'): Person => {
    const g = gender ?? (rand() < 0.52 ? 'female' : 'male');
    return { gender: g, given: pick(g === 'female' ? FEMALE_GIVEN : MALE_GIVEN), father: pick(MALE_GIVEN), family: familyFor(pick(FAMILY), g) };
  };
  /** Official name; a Cyrillic one (with its Latin transliteration as `usual`) for about a third of the people. */
  const humanNames = (p: Person, prefix?: [string, string]): Json[] => {
    const given = [p.given, patronymic(p.father, p.gender)];
    const latin: Json = { use: 'official', family: transliterate(p.family), given: given.map(transliterate), ...(prefix ? { prefix: [prefix[0]] } : {}) };
    if (rand() >= 0.33) return [latin];
    return [
      { use: 'official', text: [prefix?.[1], ...given, p.family].filter(Boolean).join(' '), family: p.family, given, ...(prefix ? { prefix: [prefix[1]] } : {}) },
      { ...latin, use: 'usual' },
    ];
  };
  const address = (city: DemoCity, cyrillic: boolean, use: 'home' | 'work'): Json => {
    const street = `${pick(STREETS)} ${int(1, 180)}`;
    return {
      use,
      type: 'physical',
      line: [cyrillic ? street : transliterate(street)],
      city: cyrillic ? city.cyrillic : cityName(city),
      district: cyrillic ? city.cyrillic : cityName(city),
      postalCode: String(city.postalCode + (city.postalSpread ? int(0, city.postalSpread) : 0)),
      country: 'BG',
    };
  };

  // Regions: jurisdiction Locations; every facility site is partOf one.
  const regionUrl = new Map<string, { fullUrl: string; url: string }>();
  for (const r of regions) {
    const ref = { fullUrl: uuid(), url: conditionalUrl('Location', LOCATION_CODE_SYSTEM, r.code) };
    regionUrl.set(r.code, ref);
    add('Location', ref.fullUrl, ref.url, {
      identifier: [{ system: LOCATION_CODE_SYSTEM, value: r.code }],
      status: 'active',
      name: `${r.name} planning region`,
      alias: [r.cyrillic],
      description: 'NUTS-2 planning region',
      mode: 'instance',
      physicalType: { coding: [{ system: PHYSICAL_TYPE_SYSTEM, code: 'jdn', display: 'Jurisdiction' }] },
      address: { country: 'BG' },
    });
  }

  // Facility mix: the pharmacies asked for; of the rest 10 % hospitals, 10 % laboratories, 25 % specialist practices, the others GP practices.
  const rest = o.facilities - o.pharmacies;
  const nHospitals = Math.max(1, Math.round(rest * 0.1));
  const nLabs = Math.max(1, Math.round(rest * 0.1));
  const nSpecialists = Math.max(1, Math.round(rest * 0.25));
  const plan: FacilityType[] = [
    ...Array<FacilityType>(nHospitals).fill('hospital'),
    ...Array<FacilityType>(rest - nHospitals - nLabs - nSpecialists).fill('gp-practice'),
    ...Array<FacilityType>(nSpecialists).fill('specialist-practice'),
    ...Array<FacilityType>(nLabs).fill('laboratory'),
    ...Array<FacilityType>(o.pharmacies).fill('pharmacy'),
  ];
  const facilitiesByType = { hospital: 0, 'gp-practice': 0, 'specialist-practice': 0, pharmacy: 0, laboratory: 0 } as Record<FacilityType, number>;
  const facilities: Facility[] = [];
  const hospitalsIn = new Map<DemoCity, number>();
  const outpatient = Object.keys(OUTPATIENT_SPECIALTIES);
  const byPopulation = [...cities].sort((a, b) => b.population - a.population);
  let facilitySeq = 0;
  for (let i = 0; i < plan.length; i++) {
    const type = plan[i];
    // Each district centre gets a hospital before any gets a second one.
    const city = type === 'hospital' && i < cities.length ? byPopulation[i] : randomCity();
    const code = `${city.district}${TYPE_DIGIT[type]}${pad(++facilitySeq, 7)}`;
    facilitiesByType[type]++;
    let cyrillic: string;
    let specialties: string[];
    let lead: Person | undefined;
    switch (type) {
      case 'hospital': {
        const nth = (hospitalsIn.get(city) ?? 0) + 1;
        hospitalsIn.set(city, nth);
        cyrillic = nth === 1 ? `МБАЛ – ${city.cyrillic}` : `МБАЛ „${HOSPITAL_SAINTS[(nth - 2) % HOSPITAL_SAINTS.length]}“ – ${city.cyrillic}`;
        specialties = HOSPITAL_SPECIALTIES.map(([s]) => s);
        break;
      }
      case 'gp-practice':
        lead = person();
        cyrillic = `ИППМП „Д-р ${lead.given} ${lead.family}“ – ${city.cyrillic}`;
        specialties = ['general-practice'];
        break;
      case 'specialist-practice':
        if (rand() < 0.3) {
          specialties = [...new Set([pick(outpatient), pick(outpatient), pick(outpatient), pick(outpatient)])];
          cyrillic = `ДКЦ „${pick(HOSPITAL_SAINTS)}“ – ${city.cyrillic}`;
        } else {
          specialties = [pick(outpatient)];
          lead = person();
          cyrillic = `АИСМП по ${OUTPATIENT_SPECIALTIES[specialties[0]]} „Д-р ${lead.given} ${lead.family}“ – ${city.cyrillic}`;
        }
        break;
      case 'laboratory':
        cyrillic = `МДЛ „${pick(LAB_NAMES)}“ – ${city.cyrillic}`;
        specialties = ['laboratory-medicine'];
        break;
      case 'pharmacy':
        cyrillic = `Аптека „${pick(PHARMACY_NAMES)}“ – ${city.cyrillic}`;
        specialties = ['pharmacy'];
        break;
    }
    const f: Facility = {
      type,
      code,
      name: transliterate(cyrillic),
      city,
      fullUrl: uuid(),
      url: conditionalUrl('Organization', FACILITY_CODE_SYSTEM, code),
      site: { fullUrl: uuid(), url: conditionalUrl('Location', LOCATION_CODE_SYSTEM, `${code}-01`) },
      wards: [],
      services: [],
      specialties,
      lead,
    };
    facilities.push(f);
    const siteAddress = address(city, false, 'work');
    add('Organization', f.fullUrl, f.url, {
      identifier: [{ system: FACILITY_CODE_SYSTEM, value: code }],
      active: true,
      type: [{ coding: [{ system: FACILITY_TYPE_SYSTEM, code: type, display: TYPE_DISPLAY[type] }] }],
      name: f.name,
      alias: [cyrillic],
      address: [siteAddress],
    });
    add('Location', f.site.fullUrl, f.site.url, {
      identifier: [{ system: LOCATION_CODE_SYSTEM, value: `${code}-01` }],
      status: 'active',
      name: f.name,
      mode: 'instance',
      type: [{ coding: [{ system: ROLE_CODE_SYSTEM, code: SITE_TYPE[type][0], display: SITE_TYPE[type][1] }] }],
      physicalType: { coding: [{ system: PHYSICAL_TYPE_SYSTEM, code: 'bu', display: 'Building' }] },
      address: siteAddress,
      position: { longitude: +(city.lon + (rand() - 0.5) * 0.06).toFixed(5), latitude: +(city.lat + (rand() - 0.5) * 0.04).toFixed(5) },
      managingOrganization: { reference: f.fullUrl },
      partOf: { reference: regionUrl.get(city.region)!.fullUrl },
    });
    if (type === 'hospital') {
      const wards = WARDS.slice(0, int(3, WARDS.length));
      wards.forEach(([wardName, roleCode, specialty], w) => {
        const wardCode = `${code}-W${pad(w + 1, 2)}`;
        const ward = { fullUrl: uuid(), url: conditionalUrl('Location', LOCATION_CODE_SYSTEM, wardCode), specialty };
        f.wards.push(ward);
        add('Location', ward.fullUrl, ward.url, {
          identifier: [{ system: LOCATION_CODE_SYSTEM, value: wardCode }],
          status: 'active',
          name: transliterate(wardName),
          alias: [wardName],
          mode: 'instance',
          type: [{ coding: [{ system: ROLE_CODE_SYSTEM, code: roleCode }] }],
          physicalType: { coding: [{ system: PHYSICAL_TYPE_SYSTEM, code: 'wa', display: 'Ward' }] },
          managingOrganization: { reference: f.fullUrl },
          partOf: { reference: f.site.fullUrl },
        });
      });
    }
    // HealthcareServices: hospital wards and clinics, each specialty of a specialist practice, laboratory testing.
    const services: { specialty: string; category: [string, string]; name: string }[] =
      type === 'hospital'
        ? f.wards.map((w) => ({
            specialty: w.specialty,
            category: w.specialty === 'emergency-medicine' ? ['14', 'Emergency Department'] : ['35', 'Hospital'],
            name: `${SPECIALTY_DISPLAY[w.specialty]} (${f.name})`,
          }))
        : type === 'specialist-practice'
          ? specialties.map((s) => ({ specialty: s, category: ['27', 'Specialist Medical'], name: `${SPECIALTY_DISPLAY[s]} consultations` }))
          : type === 'laboratory'
            ? [{ specialty: 'laboratory-medicine', category: ['26', 'Specialist Clinical Pathology'], name: 'Clinical laboratory tests' }]
            : [];
    services.forEach((s, k) => {
      const key = `${code}-S${pad(k + 1, 2)}`;
      const service = { fullUrl: uuid(), url: conditionalUrl('HealthcareService', DEMO_KEY_SYSTEM, key), specialty: s.specialty };
      f.services.push(service);
      add('HealthcareService', service.fullUrl, service.url, {
        identifier: [{ system: DEMO_KEY_SYSTEM, value: key }],
        active: true,
        providedBy: { reference: f.fullUrl },
        category: [{ coding: [{ system: SERVICE_CATEGORY_SYSTEM, code: s.category[0], display: s.category[1] }] }],
        specialty: [specialtyConcept(s.specialty)],
        location: [{ reference: f.site.fullUrl }],
        name: s.name,
        availableTime: [{ daysOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri'], availableStartTime: '08:00:00', availableEndTime: type === 'hospital' ? '20:00:00' : '18:00:00' }],
      });
    });
  }

  // Practitioners: one per facility first (its lead, if named after one), the rest weighted towards hospitals.
  const staffWeight: Record<FacilityType, number> = { hospital: 40, 'specialist-practice': 2.5, laboratory: 3, pharmacy: 2, 'gp-practice': 0.6 };
  const randomWorkplace = weightedPicker(facilities, (f) => staffWeight[f.type]);
  const randomHospitalSpecialty = weightedPicker(HOSPITAL_SPECIALTIES, ([, w]) => w);
  const home: Facility[] = [];
  for (let n = 0; n < o.practitioners; n++) home.push(n < facilities.length ? facilities[n] : randomWorkplace());
  const gpRolesByDistrict = new Map<string, string[]>();
  const gpRoles: string[] = [];
  const leadTaken = new Set<Facility>();
  let practitionerNumber: string | undefined;
  let roleSeq = 0;
  const year = 2026;
  home.forEach((f, n) => {
    const pharmacist = f.type === 'pharmacy';
    const p = f.lead && !leadTaken.has(f) ? f.lead : person();
    leadTaken.add(f);
    const number = `${f.city.district}${pad(n + 1, 8)}`;
    if (f.type === 'gp-practice') practitionerNumber ??= number;
    const specialty = f.type === 'hospital' ? randomHospitalSpecialty()[0] : pick(f.specialties);
    const fullUrl = uuid();
    const url = conditionalUrl('Practitioner', PRACTITIONER_NUMBER_SYSTEM, number);
    const born = year - int(27, 68);
    add('Practitioner', fullUrl, url, {
      identifier: [{ system: PRACTITIONER_NUMBER_SYSTEM, value: number }],
      active: true,
      name: humanNames(p, pharmacist ? ['Mag. Pharm.', 'маг.-фарм.'] : ['Dr.', 'д-р']),
      gender: p.gender,
      birthDate: `${born}-${pad(int(1, 12), 2)}-${pad(int(1, 28), 2)}`,
      qualification: [{ code: specialtyConcept(specialty) }],
    });
    const role = (at: Facility, active: boolean, start: string, end?: string): string => {
      const key = `R${pad(++roleSeq, 7)}`;
      const roleFullUrl = uuid();
      const ward = at.wards.find((w) => w.specialty === specialty);
      const service = at.services.find((s) => s.specialty === specialty);
      add('PractitionerRole', roleFullUrl, conditionalUrl('PractitionerRole', DEMO_KEY_SYSTEM, key), {
        identifier: [{ system: DEMO_KEY_SYSTEM, value: key }],
        active,
        period: end ? { start, end } : { start },
        practitioner: { reference: fullUrl },
        organization: { reference: at.fullUrl },
        code: [{ coding: [{ system: PRACTITIONER_ROLE_SYSTEM, code: pharmacist ? 'pharmacist' : 'doctor', display: pharmacist ? 'Pharmacist' : 'Doctor' }] }],
        specialty: [specialtyConcept(specialty)],
        location: [{ reference: (ward ?? at.site).fullUrl }],
        ...(service ? { healthcareService: [{ reference: service.fullUrl }] } : {}),
      });
      return roleFullUrl;
    };
    const careerStart = Math.max(born + 26, 1990);
    const since = `${int(careerStart, year - 1)}-${pad(int(1, 12), 2)}-01`;
    // Some moved: an ended role at a facility of the same type before the current one.
    if (rand() < 0.05 && Number(since.slice(0, 4)) > careerStart + 1) {
      const before = facilities.filter((x) => x.type === f.type && x !== f);
      if (before.length) role(pick(before), false, `${careerStart}-09-01`, `${Number(since.slice(0, 4)) - 1}-12-31`);
    }
    const current = role(f, true, since);
    if (f.type === 'gp-practice') {
      gpRoles.push(current);
      const list = gpRolesByDistrict.get(f.city.district) ?? [];
      gpRolesByDistrict.set(f.city.district, list);
      list.push(current);
    }
    // Hospital doctors with an outpatient specialty often also consult at a specialist practice.
    if (f.type === 'hospital' && rand() < 0.15) {
      const also = facilities.filter((x) => x.type === 'specialist-practice' && x.specialties.includes(specialty));
      if (also.length) role(pick(also), true, `${int(Number(since.slice(0, 4)), year - 1)}-01-01`);
    }
  });

  // Patients: unique valid EGNs; birth date and gender are the EGN's; most are on the list of a GP in their district.
  const egns = new Set<string>();
  const examplePatients: string[] = [];
  for (let n = 0; n < o.patients; n++) {
    const p = person();
    const city = randomCity();
    const age = rand() < 0.85 ? int(0, 79) : int(80, 99);
    const birthDate = `${year - 1 - age}-${pad(int(1, 12), 2)}-${pad(int(1, 28), 2)}`;
    let serial = int(0, 499);
    let egn = generateEgn(birthDate, p.gender, serial);
    for (let tries = 0; egns.has(egn); tries++) {
      if (tries >= 500) throw new Error('demo country: too many patients for the EGN space');
      egn = generateEgn(birthDate, p.gender, ++serial);
    }
    egns.add(egn);
    const cyrillicHome = rand() < 0.3;
    const gps = gpRolesByDistrict.get(city.district) ?? gpRoles;
    const gp = gps.length && rand() < 0.95 ? pick(gps) : undefined;
    const deceased = age >= 75 && rand() < 0.04 ? `${year - int(1, 3)}-${pad(int(1, 12), 2)}-${pad(int(1, 28), 2)}` : undefined;
    if (gp && !deceased && age >= 18 && examplePatients.length < 3) examplePatients.push(egn);
    const url = conditionalUrl('Patient', EGN_SYSTEM, egn);
    add('Patient', uuid(), url, {
      identifier: [{ use: 'official', system: EGN_SYSTEM, value: egn }],
      active: true,
      name: humanNames(p),
      gender: p.gender,
      birthDate,
      ...(deceased ? { deceasedDateTime: deceased } : {}),
      address: [address(city, cyrillicHome, 'home')],
      ...(gp ? { generalPractitioner: [{ reference: gp }] } : {}),
    });
  }

  const hospital = facilities.find((f) => f.type === 'hospital')!;
  const pharmacy = facilities.find((f) => f.type === 'pharmacy')!;
  return {
    options: o,
    entries,
    counts,
    facilitiesByType,
    examples: {
      hospital: { code: hospital.code, name: hospital.name },
      pharmacy: { code: pharmacy.code, name: pharmacy.name },
      gpPractitionerNumber: practitionerNumber ?? '',
      patientEgns: examplePatients,
    },
  };
}

/** Replaces `{ reference }` values inside `resource` (deep copy) by `map(value)` where defined. */
function mapReferences(value: unknown, map: (ref: string) => string | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => mapReferences(v, map));
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === 'reference' && typeof v === 'string' ? (map(v) ?? v) : mapReferences(v, map);
  return out;
}

export interface TransactionBundle {
  resourceType: 'Bundle';
  type: 'transaction';
  entry: { fullUrl: string; resource: Json; request: { method: 'PUT'; url: string } }[];
}

/**
 * Transaction Bundles of at most `size` entries each, in order. A reference to
 * an entry of another Bundle becomes a conditional reference (`Type?identifier=…`),
 * which the server resolves against what earlier Bundles stored.
 */
export function toTransactionBundles(entries: readonly DemoEntry[], size = 200): TransactionBundle[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('bundle size must be a positive integer');
  const urlOf = new Map(entries.map((e) => [e.fullUrl, e.url]));
  const bundles: TransactionBundle[] = [];
  for (let i = 0; i < entries.length; i += size) {
    const chunk = entries.slice(i, i + size);
    const local = new Set(chunk.map((e) => e.fullUrl));
    bundles.push({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: chunk.map((e) => ({
        fullUrl: e.fullUrl,
        resource: mapReferences(e.resource, (ref) => (local.has(ref) ? undefined : urlOf.get(ref))) as Json,
        request: { method: 'PUT', url: e.url },
      })),
    });
  }
  return bundles;
}
