import { bgEgn } from './bg-egn';
import { bgLnch } from './bg-lnch';
import { czRodneCislo } from './cz-rodne-cislo';
import type { NationalIdScheme } from './types';
import { vnCitizenId } from './vn-citizen-id';

export type { NationalIdResult, NationalIdScheme } from './types';

/** Every scheme we ship; a deployment enables some of them by name (NATIONAL_ID_SCHEMES). */
export const NATIONAL_ID_SCHEMES: readonly NationalIdScheme[] = [bgEgn, bgLnch, czRodneCislo, vnCitizenId];

export function schemesByName(names: readonly string[]): NationalIdScheme[] {
  return names.map((n) => {
    const scheme = NATIONAL_ID_SCHEMES.find((s) => s.name === n);
    if (!scheme) throw new Error(`Unknown national identifier scheme '${n}' (known: ${NATIONAL_ID_SCHEMES.map((s) => s.name).join(', ')})`);
    return scheme;
  });
}

export function schemeForSystem(schemes: readonly NationalIdScheme[], system: string | undefined): NationalIdScheme | undefined {
  return system === undefined ? undefined : schemes.find((s) => s.system === system);
}
