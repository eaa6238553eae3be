/**
 * National prescription numbers: `RX-YY-NNNNNNNN-C` — the two-digit year of
 * issue, an eight-digit serial from a database sequence (unique across
 * processes), and a Luhn (ISO/IEC 7812-1) check digit over the ten digits, so
 * a mistyped digit or a swap of neighbours is caught before any lookup.
 */
export const PRESCRIPTION_NUMBER_SYSTEM = 'http://opennhis.org/fhir/sid/prescription-number';

const FORMAT = /^RX-(\d{2})-(\d{8})-(\d)$/;

export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function formatPrescriptionNumber(issuedAt: Date, serial: number): string {
  const yy = String(issuedAt.getUTCFullYear() % 100).padStart(2, '0');
  const nnn = String(serial).padStart(8, '0');
  if (nnn.length !== 8) throw new Error(`prescription serial ${serial} out of range`);
  return `RX-${yy}-${nnn}-${luhnCheckDigit(yy + nnn)}`;
}

export function isValidPrescriptionNumber(value: string): boolean {
  const m = FORMAT.exec(value);
  return !!m && luhnCheckDigit(m[1] + m[2]) === Number(m[3]);
}
