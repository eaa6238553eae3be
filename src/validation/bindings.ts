import { expandValueSet } from './terminology';

/**
 * Required terminology bindings (https://hl7.org/fhir/R4/terminologies.html#required),
 * shared by the core validation and the profile engine. A binding is compiled
 * once per element into Sets; checking a value is a few Set look-ups.
 *
 * - `code`: the value must be a code of the ValueSet.
 * - `Coding`: when its system is one of the ValueSet's systems, the code must
 *   be in the ValueSet; a coding in another system is not a member either.
 * - `CodeableConcept`: every coding in one of the ValueSet's systems must be
 *   valid, and at least one coding must be a member; a concept with text only
 *   (no coding) is accepted, as the HL7 validator does.
 * Codings without a system cannot be judged and are accepted.
 */

export type BoundType = 'code' | 'Coding' | 'CodeableConcept';

export interface CompiledBinding {
  valueSet: string;
  type: BoundType;
  keys: ReadonlySet<string>;
  codes: ReadonlySet<string>;
  systems: ReadonlySet<string>;
}

export interface BindingProblem {
  /** Child path below the bound element (`''`, `.coding[1]`, `.code`). */
  at: string;
  message: string;
}

const notEnumerable = new Map<string, string>();

/** ValueSets of required bindings that could not be enumerated, with the reason (they are not checked). */
export function nonEnumerableBindings(): ReadonlyMap<string, string> {
  return notEnumerable;
}

export function isBoundType(type: string): type is BoundType {
  return type === 'code' || type === 'Coding' || type === 'CodeableConcept';
}

/** Compiles a required binding of an element of `type`, or `undefined` when it cannot be checked. */
export function compileBinding(valueSet: string, type: string): CompiledBinding | undefined {
  if (!isBoundType(type)) return undefined;
  const url = valueSet.split('|')[0];
  const expanded = expandValueSet(url);
  if (!expanded.ok) {
    notEnumerable.set(url, expanded.reason);
    return undefined;
  }
  const { keys, codes, systems } = expanded.expansion;
  return { valueSet: url, type, keys, codes, systems };
}

interface CodingLike {
  system?: unknown;
  code?: unknown;
}

function codingProblem(b: CompiledBinding, coding: CodingLike): string | undefined {
  if (typeof coding.system !== 'string' || typeof coding.code !== 'string') return undefined;
  if (b.keys.has(`${coding.system}|${coding.code}`)) return undefined;
  if (b.systems.has(coding.system)) return `The code '${coding.code}' is not in the value set ${b.valueSet} (system ${coding.system})`;
  return undefined;
}

function isMember(b: CompiledBinding, coding: CodingLike): boolean {
  return typeof coding.system === 'string' && typeof coding.code === 'string' && b.keys.has(`${coding.system}|${coding.code}`);
}

/** Problems of one value of a bound element (empty when it conforms). */
export function checkBinding(b: CompiledBinding, value: unknown): BindingProblem[] {
  if (value === null || value === undefined) return [];
  if (b.type === 'code') {
    if (typeof value !== 'string' || b.codes.has(value)) return [];
    return [{ at: '', message: `The code '${value}' is not in the value set ${b.valueSet}` }];
  }
  if (typeof value !== 'object' || Array.isArray(value)) return [];
  if (b.type === 'Coding') {
    const coding = value as CodingLike;
    const problem = codingProblem(b, coding);
    if (problem) return [{ at: '', message: problem }];
    if (typeof coding.system === 'string' && typeof coding.code === 'string' && !isMember(b, coding)) {
      return [{ at: '', message: `The coding ${coding.system}|${coding.code} is not from the required value set ${b.valueSet}` }];
    }
    return [];
  }
  const codings = (value as { coding?: unknown }).coding;
  if (!Array.isArray(codings) || codings.length === 0) return [];
  const problems: BindingProblem[] = [];
  let judged = false;
  let member = false;
  codings.forEach((c: unknown, i) => {
    if (c === null || typeof c !== 'object') return;
    const coding = c as CodingLike;
    if (typeof coding.system === 'string' && typeof coding.code === 'string') judged = true;
    if (isMember(b, coding)) member = true;
    const problem = codingProblem(b, coding);
    if (problem) problems.push({ at: `.coding[${i}]`, message: problem });
  });
  if (problems.length === 0 && judged && !member) {
    problems.push({ at: '', message: `None of the codings is from the required value set ${b.valueSet}` });
  }
  return problems;
}
