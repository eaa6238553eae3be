/**
 * A fast evaluator for the small subset of FHIRPath that most constraints use:
 * member paths, `empty() exists() not() count() hasValue() startsWith() where() exists(criteria)`,
 * `= != and or xor implies`, string/number/boolean literals, `%ucum` and parentheses.
 *
 * fhirpath.js is complete but costs tens of microseconds per call (it wraps
 * every node in a typed ResourceNode); these closures work on the plain JSON.
 * `compileFast` returns `undefined` for anything outside the subset, and an
 * evaluator throws `Unsupported` when the data needs what it does not model
 * (a primitive with only an `_x` extension, equality of non-primitives); the
 * caller then uses fhirpath.js. Equivalence with fhirpath.js is checked over
 * all R4 examples in the examples test.
 */

export class Unsupported extends Error {}
/**
 * Thrown instead of a new Unsupported: it is control flow on a hot path, and capturing a stack
 * trace each time costs more than the evaluation. Callers only test `instanceof Unsupported`.
 */
const UNSUPPORTED = new Unsupported('outside the fast FHIRPath subset');

type Collection = unknown[];
export interface FastEnv {
  resource: unknown;
  rootResource: unknown;
}
type Fn = (input: Collection, env: FastEnv) => Collection;
/** `(focus) => result`; `focus` is the context collection (a single node). */
export type FastEvaluator = (node: unknown, env: FastEnv) => Collection;

const EMPTY: Collection = [];
const TRUE: Collection = [true];
const FALSE: Collection = [false];
const UCUM: Collection = ['http://unitsofmeasure.org'];

type Token = { t: 'id' | 'str' | 'num' | 'op' | 'var'; v: string };

function tokenize(s: string): Token[] | undefined {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < s.length && /[A-Za-z0-9_]/.test(s[j])) j++;
      out.push({ t: 'id', v: s.slice(i, j) });
      i = j;
    } else if (c === '`') {
      const j = s.indexOf('`', i + 1);
      if (j < 0) return undefined;
      out.push({ t: 'id', v: s.slice(i + 1, j) });
      i = j + 1;
    } else if (c === "'") {
      let j = i + 1;
      let v = '';
      while (j < s.length && s[j] !== "'") {
        if (s[j] === '\\') return undefined;
        v += s[j++];
      }
      if (j >= s.length) return undefined;
      out.push({ t: 'str', v });
      i = j + 1;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < s.length && /[0-9]/.test(s[j])) j++;
      if (s[j] === '.' && /[0-9]/.test(s[j + 1] ?? '')) return undefined; // decimals: leave to fhirpath.js
      out.push({ t: 'num', v: s.slice(i, j) });
      i = j;
    } else if (c === '!' && s[i + 1] === '=') {
      out.push({ t: 'op', v: '!=' });
      i += 2;
    } else if ((c === '<' || c === '>') && s[i + 1] === '=') {
      out.push({ t: 'op', v: c + '=' });
      i += 2;
    } else if (c === '%' || c === '$') {
      let j = i + 1;
      while (j < s.length && /[A-Za-z0-9_]/.test(s[j])) j++;
      out.push({ t: 'var', v: s.slice(i, j) });
      i = j;
    } else if ('.(),=<>|&'.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
    } else {
      return undefined;
    }
  }
  return out;
}

const KEYWORD_OPS = new Set(['and', 'or', 'xor', 'implies', 'in', 'is', 'as', 'contains', 'div', 'mod']);

/** Which JSON keys can be variants of a choice element (`value` → `valueQuantity`). */
export interface ChoiceNames {
  /** Names of choice elements anywhere in the model (`value`, `effective`, …). */
  names: ReadonlySet<string>;
  /** Capitalised type names that form variant suffixes (`Quantity`, `DateTime`, …). */
  suffixes: ReadonlySet<string>;
}

let choices: ChoiceNames = { names: new Set(), suffixes: new Set() };

/** Compiles `expression`, or returns `undefined` when it is outside the subset. */
export function compileFast(expression: string, choiceNames: ChoiceNames): FastEvaluator | undefined {
  choices = choiceNames;
  const parsed = tokenize(expression);
  if (!parsed) return undefined;
  const tokens: Token[] = parsed;
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isOp = (v: string): boolean => peek()?.t === 'op' && peek()?.v === v;
  const isKw = (v: string): boolean => peek()?.t === 'id' && peek()?.v === v;
  class Fail extends Error {}
  const expect = (v: string): void => {
    if (!isOp(v)) throw new Fail();
    pos++;
  };

  // Precedence (low → high): implies, or/xor, and, equality, path.
  function parseImplies(): Fn {
    let left = parseOr();
    while (isKw('implies')) {
      pos++;
      const l = left;
      const r = parseOr();
      left = (input, env) => implies(toBool(l(input, env)), toBool(r(input, env)));
    }
    return left;
  }
  function parseOr(): Fn {
    let left = parseAnd();
    while (isKw('or') || isKw('xor')) {
      const op = tokens[pos++].v;
      const l = left;
      const r = parseAnd();
      left = op === 'or' ? (input, env) => or(toBool(l(input, env)), toBool(r(input, env))) : (input, env) => xor(toBool(l(input, env)), toBool(r(input, env)));
    }
    return left;
  }
  function parseAnd(): Fn {
    let left = parseMembership();
    while (isKw('and')) {
      pos++;
      const l = left;
      const r = parseMembership();
      left = (input, env) => and(toBool(l(input, env)), toBool(r(input, env)));
    }
    return left;
  }
  function parseMembership(): Fn {
    let left = parseEquality();
    while (isKw('in')) {
      pos++;
      const l = left;
      const r = parseEquality();
      left = (input, env) => membership(l(input, env), r(input, env));
    }
    return left;
  }
  function parseEquality(): Fn {
    let left = parseComparison();
    while (isOp('=') || isOp('!=')) {
      const negate = tokens[pos++].v === '!=';
      const l = left;
      const r = parseComparison();
      left = (input, env) => equals(l(input, env), r(input, env), negate);
    }
    return left;
  }
  function parseComparison(): Fn {
    let left = parseUnion();
    while (isOp('<') || isOp('>') || isOp('<=') || isOp('>=')) {
      const op = tokens[pos++].v;
      const l = left;
      const r = parseUnion();
      left = (input, env) => compare(l(input, env), r(input, env), op);
    }
    return left;
  }
  function parseUnion(): Fn {
    let left = parseConcat();
    while (isOp('|')) {
      pos++;
      const l = left;
      const r = parseConcat();
      left = (input, env) => distinct([...l(input, env), ...r(input, env)]);
    }
    return left;
  }
  function parseConcat(): Fn {
    let left = parseTerm();
    while (isOp('&')) {
      pos++;
      const l = left;
      const r = parseTerm();
      left = (input, env) => [stringOf(l(input, env)) + stringOf(r(input, env))];
    }
    return left;
  }
  function parseTerm(): Fn {
    const tok = peek();
    if (!tok) throw new Fail();
    let fn: Fn;
    if (tok.t === 'op' && tok.v === '(') {
      pos++;
      fn = parseImplies();
      expect(')');
    } else if (tok.t === 'str' || tok.t === 'num') {
      pos++;
      const value = tok.t === 'str' ? tok.v : Number(tok.v);
      fn = () => [value];
    } else if (tok.t === 'id' && (tok.v === 'true' || tok.v === 'false')) {
      pos++;
      const value = tok.v === 'true' ? TRUE : FALSE;
      fn = () => value;
    } else if (tok.t === 'var') {
      pos++;
      if (tok.v === '$this') fn = (input) => input;
      else if (tok.v === '%resource') fn = (_input, env) => [env.resource];
      else if (tok.v === '%rootResource') fn = (_input, env) => [env.rootResource];
      else if (tok.v === '%ucum') fn = () => UCUM;
      else throw new Fail();
      if (!isOp('.')) return fn;
    } else if (tok.t === 'id' && !KEYWORD_OPS.has(tok.v)) {
      fn = parseInvocation((input, env) => input);
    } else {
      throw new Fail();
    }
    while (isOp('.')) {
      pos++;
      fn = parseInvocation(fn);
    }
    return fn;
  }
  /** One member or function invocation applied to the result of `prev`. */
  function parseInvocation(prev: Fn): Fn {
    const tok = peek();
    if (!tok || tok.t !== 'id') throw new Fail();
    pos++;
    if (!isOp('(')) {
      const name = tok.v;
      return (input, env) => navigate(prev(input, env), name);
    }
    pos++;
    const name = tok.v;
    if (isOp(')')) {
      pos++;
      switch (name) {
        case 'empty':
          return (input, env) => (prev(input, env).length === 0 ? TRUE : FALSE);
        case 'exists':
          return (input, env) => (prev(input, env).length > 0 ? TRUE : FALSE);
        case 'hasValue':
          return (input, env) => {
            const c = prev(input, env);
            return c.length === 1 && isPrimitive(c[0]) ? TRUE : FALSE;
          };
        case 'not':
          return (input, env) => {
            const b = toBool(prev(input, env));
            return b === undefined ? EMPTY : b ? FALSE : TRUE;
          };
        case 'count':
          return (input, env) => [prev(input, env).length];
        case 'first':
          return (input, env) => prev(input, env).slice(0, 1);
        case 'tail':
          return (input, env) => prev(input, env).slice(1);
        case 'isDistinct':
          return (input, env) => {
            const c = prev(input, env);
            return distinct(c).length === c.length ? TRUE : FALSE;
          };
        case 'allTrue':
          return (input, env) => (prev(input, env).every((v) => v === true) ? TRUE : FALSE);
        case 'allFalse':
          return (input, env) => (prev(input, env).every((v) => v === false) ? TRUE : FALSE);
        default:
          throw new Fail();
      }
    }
    if (name === 'select') {
      const projection = parseImplies();
      expect(')');
      return (input, env) => {
        const out: unknown[] = [];
        for (const item of prev(input, env)) for (const v of projection([item], env)) out.push(v);
        return out;
      };
    }
    if (name === 'all') {
      const criteria = parseImplies();
      expect(')');
      return (input, env) => {
        for (const item of prev(input, env)) if (toBool(criteria([item], env)) !== true) return FALSE;
        return TRUE;
      };
    }
    if (name === 'intersect' && peek()?.t === 'var') {
      // Only with an argument rooted at %resource/%rootResource, whose value does not depend on the focus.
      const other = parseImplies();
      expect(')');
      return (input, env) => {
        const left = prev(input, env);
        if (left.length === 0) return EMPTY;
        const right = other(EMPTY, env);
        const out: unknown[] = [];
        for (const v of distinct(left)) if (membership([v], right) === TRUE) out.push(v);
        return out;
      };
    }
    if (name === 'trace') {
      // trace(name[, projection]) only logs: the identity here.
      skipArguments();
      return prev;
    }
    if (name === 'where' || name === 'exists') {
      const criteria = parseImplies();
      expect(')');
      const filter = (input: Collection, env: FastEnv): Collection => {
        const items = prev(input, env);
        const out: unknown[] = [];
        for (const item of items) if (toBool(criteria([item], env)) === true) out.push(item);
        return out;
      };
      return name === 'where' ? filter : (input, env) => (filter(input, env).length > 0 ? TRUE : FALSE);
    }
    if (name === 'startsWith' || name === 'contains' || name === 'endsWith') {
      const arg = peek();
      if (!arg || arg.t !== 'str') throw new Fail();
      pos++;
      expect(')');
      const text = arg.v;
      return (input, env) => {
        const c = prev(input, env);
        if (c.length === 0) return EMPTY;
        if (c.length > 1 || typeof c[0] !== 'string') throw UNSUPPORTED;
        const str = c[0] as string;
        const ok = name === 'startsWith' ? str.startsWith(text) : name === 'endsWith' ? str.endsWith(text) : str.includes(text);
        return ok ? TRUE : FALSE;
      };
    }
    if (name === 'substring') {
      const arg = peek();
      if (!arg || arg.t !== 'num') throw new Fail();
      pos++;
      expect(')');
      const start = Number(arg.v);
      return (input, env) => {
        const c = prev(input, env);
        if (c.length === 0) return EMPTY;
        if (c.length > 1 || typeof c[0] !== 'string') throw UNSUPPORTED;
        const str = c[0] as string;
        return start >= str.length ? EMPTY : [str.slice(start)];
      };
    }
    throw new Fail();
  }

  function skipArguments(): void {
    let depth = 1;
    while (pos < tokens.length && depth > 0) {
      const t = tokens[pos++];
      if (t.t === 'op' && t.v === '(') depth++;
      else if (t.t === 'op' && t.v === ')') depth--;
    }
    if (depth !== 0) throw new Fail();
  }

  try {
    const fn = parseImplies();
    if (pos !== tokens.length) return undefined;
    return (node, env) => fn([node], env);
  } catch (err) {
    if (err instanceof Fail) return undefined;
    throw err;
  }
}

function isPrimitive(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function navigate(input: Collection, name: string): Collection {
  const out: unknown[] = [];
  for (const item of input) {
    if (item === null || typeof item !== 'object') continue;
    const obj = item as Record<string, unknown>;
    let value = obj[name];
    if (value === undefined) {
      if (obj['_' + name] !== undefined) throw UNSUPPORTED;
      value = choices.names.has(name) ? choiceValue(obj, name) : undefined;
      if (value === undefined) continue;
    }
    if (Array.isArray(value)) {
      for (const v of value) {
        if (v === null) throw UNSUPPORTED;
        out.push(v);
      }
    } else {
      out.push(value);
    }
  }
  return out;
}

/** `value` on `{valueQuantity: …}`: a choice element by its base name. */
function choiceValue(obj: Record<string, unknown>, name: string): unknown {
  for (const key in obj) {
    // A variant with only its primitive extension (`_valueString`) exists for FHIRPath: not modelled here.
    if (key.charCodeAt(0) === 95 && key.startsWith(name, 1) && choices.suffixes.has(key.slice(name.length + 1))) {
      throw UNSUPPORTED;
    }
    if (key.length > name.length && key.startsWith(name)) {
      const c = key.charCodeAt(name.length);
      if (c >= 65 && c <= 90 && choices.suffixes.has(key.slice(name.length))) return obj[key];
    }
  }
  return undefined;
}

/** FHIRPath singleton evaluation of a collection as a Boolean. */
function toBool(c: Collection): boolean | undefined {
  if (c.length === 0) return undefined;
  if (c.length > 1) throw UNSUPPORTED;
  const v = c[0];
  return typeof v === 'boolean' ? v : true;
}

function wrap(b: boolean | undefined): Collection {
  return b === undefined ? EMPTY : b ? TRUE : FALSE;
}

function and(a: boolean | undefined, b: boolean | undefined): Collection {
  if (a === false || b === false) return FALSE;
  if (a === true && b === true) return TRUE;
  return EMPTY;
}

function or(a: boolean | undefined, b: boolean | undefined): Collection {
  if (a === true || b === true) return TRUE;
  if (a === false && b === false) return FALSE;
  return EMPTY;
}

function xor(a: boolean | undefined, b: boolean | undefined): Collection {
  if (a === undefined || b === undefined) return EMPTY;
  return wrap(a !== b);
}

function implies(a: boolean | undefined, b: boolean | undefined): Collection {
  if (a === false) return TRUE;
  if (a === true) return wrap(b);
  return b === true ? TRUE : EMPTY;
}

function equals(l: Collection, r: Collection, negate: boolean): Collection {
  if (l.length === 0 || r.length === 0) return EMPTY;
  if (l.length !== r.length) return negate ? TRUE : FALSE;
  for (let i = 0; i < l.length; i++) {
    const a = l[i];
    const b = r[i];
    if (!isPrimitive(a) || !isPrimitive(b) || typeof a !== typeof b) throw UNSUPPORTED;
    if (a !== b) return negate ? TRUE : FALSE;
  }
  return negate ? FALSE : TRUE;
}

function membership(l: Collection, r: Collection): Collection {
  if (l.length === 0) return EMPTY;
  if (l.length > 1 || !isPrimitive(l[0])) throw UNSUPPORTED;
  for (const v of r) {
    if (!isPrimitive(v)) throw UNSUPPORTED;
    if (v === l[0]) return TRUE;
  }
  return FALSE;
}

/**
 * A date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) or dateTime with seconds and a time zone, as in
 * the R4 regexes; groups: year, month, day, seconds, zone.
 */
const DATE_OR_DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(?:[01]\d|2[0-3]):[0-5]\d:(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

function isCalendarDate(m: RegExpExecArray): boolean {
  const year = Number(m[1]);
  if (year < 1) return false;
  if (m[2] === undefined) return true;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return false;
  if (m[3] === undefined) return true;
  const day = Number(m[3]);
  return day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate() && (m[4] === undefined || Number(m[4]) < 60);
}

/**
 * True when the two strings order the same as text, as dates and as date-times: real calendar
 * values written the same way (same length, so same precision and fraction digits) in the same
 * time zone. Then fhirpath.js's answer (chronological for date types, by code units for
 * strings) is the text order, and a Period's `start <= end` (per-1) needs no fhirpath.js.
 */
function isSameShapeDateText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const ma = DATE_OR_DATE_TIME.exec(a);
  if (!ma) return false;
  const mb = DATE_OR_DATE_TIME.exec(b);
  return mb !== null && ma[5] === mb[5] && isCalendarDate(ma) && isCalendarDate(mb);
}

function compare(l: Collection, r: Collection, op: string): Collection {
  if (l.length === 0 || r.length === 0) return EMPTY;
  const a = l[0];
  const b = r[0];
  if (l.length > 1 || r.length > 1) throw UNSUPPORTED;
  if (typeof a === 'string' && typeof b === 'string' && isSameShapeDateText(a, b)) {
    const ok = op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
    return ok ? TRUE : FALSE;
  }
  // Other strings may be dates or times with precision rules: leave them to fhirpath.js.
  if (typeof a !== 'number' || typeof b !== 'number') throw UNSUPPORTED;
  const ok = op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
  return ok ? TRUE : FALSE;
}

function distinct(c: Collection): Collection {
  const seen = new Set<unknown>();
  for (const v of c) {
    if (!isPrimitive(v)) throw UNSUPPORTED;
    seen.add(typeof v === 'string' ? 's' + v : v);
  }
  return seen.size === c.length ? c : [...seen].map((v) => (typeof v === 'string' ? v.slice(1) : v));
}

function stringOf(c: Collection): string {
  if (c.length === 0) return '';
  if (c.length > 1 || typeof c[0] !== 'string') throw UNSUPPORTED;
  return c[0] as string;
}
