/**
 * Which elements of its context node a FHIRPath constraint can look at.
 *
 * Most constraints start every navigation from a child of their context node
 * (`dataAbsentReason.empty() or value.empty()`). If none of those children is
 * present, the constraint gives the same answer as on an empty node, which is
 * computed once at compile time. Navigation inside the lambda of
 * `x.where(...)`, `x.all(...)` etc. starts from the items of `x`, so it only
 * runs when `x` is present and can be ignored. Anything that can reach the
 * node without naming a child (`%resource`, `$this`, `children()`,
 * `descendants()`, `hasValue()`, …) at the top level makes the constraint
 * "always evaluate".
 */

// `trace(name, projection)`: the projection runs on the items, like a lambda.
const LAMBDA_FUNCTIONS = new Set(['where', 'select', 'all', 'exists', 'repeat', 'aggregate', 'any', 'sort', 'trace']);
const CONTEXT_FUNCTIONS = new Set([
  'children',
  'descendants',
  'hasValue',
  'resolve',
  'today',
  'now',
  'timeOfDay',
  'getValue',
  'memberOf',
  'conformsTo',
  'htmlChecks',
  'trace',
]);

const OPERATOR_WORDS = new Set(['and', 'or', 'xor', 'implies', 'in', 'is', 'as', 'contains', 'div', 'mod', 'true', 'false']);

/** Top-level identifiers that start a navigation, or `null` when the constraint must always be evaluated. */
export function constraintTriggers(expression: string): Set<string> | null {
  const names = new Set<string>();
  const s = expression;
  let i = 0;
  let prevSignificant = '';
  while (i < s.length) {
    const c = s[i];
    if (c === "'") {
      i = skipString(s, i);
      prevSignificant = "'";
      continue;
    }
    if (c === '%' || c === '$') return null;
    if (c === '`') {
      const end = s.indexOf('`', i + 1);
      const name = s.slice(i + 1, end < 0 ? s.length : end);
      if (prevSignificant !== '.') names.add(name);
      i = end < 0 ? s.length : end + 1;
      prevSignificant = 'id';
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < s.length && /[A-Za-z0-9_]/.test(s[j])) j++;
      const name = s.slice(i, j);
      let k = j;
      while (k < s.length && /\s/.test(s[k])) k++;
      const isCall = s[k] === '(';
      const afterDot = prevSignificant === '.';
      if (isCall) {
        if (!afterDot && CONTEXT_FUNCTIONS.has(name)) return null;
        if (afterDot && LAMBDA_FUNCTIONS.has(name)) {
          i = skipParens(s, k);
          prevSignificant = ')';
          continue;
        }
        if (!afterDot) names.add(name);
        i = k + 1;
        prevSignificant = '(';
        continue;
      }
      if (!afterDot && !OPERATOR_WORDS.has(name)) names.add(name);
      i = j;
      prevSignificant = 'id';
      continue;
    }
    if (!/\s/.test(c)) prevSignificant = c;
    i++;
  }
  return names;
}

function skipString(s: string, start: number): number {
  let i = start + 1;
  while (i < s.length && s[i] !== "'") i += s[i] === '\\' ? 2 : 1;
  return i + 1;
}

function skipParens(s: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < s.length) {
    const c = s[i];
    if (c === "'") {
      i = skipString(s, i);
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return i;
}
