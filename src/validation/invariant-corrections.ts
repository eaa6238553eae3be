/**
 * Core R4 (4.0.1) invariants that are not evaluated as published, each with
 * the reason. Two kinds:
 *
 * - `errata`: the published FHIRPath contradicts the invariant's own human
 *   text, and HL7 published the corrected expression (in R4B, 4.3.0, the
 *   technical-correction release of R4). The corrected rule applies.
 * - `engine`: the expression is right but fhirpath.js cannot evaluate it as
 *   written (regular expressions are compiled in Unicode mode, where the
 *   published patterns' escapes are syntax errors). The correction says the
 *   same thing in a form the engine accepts.
 *
 * A correction applies only when the constraint's expression is the
 * published one, so a profile reusing a key is never rewritten. Constraints
 * the engine cannot express at all, or only at a cost out of proportion on
 * a hot path, are implemented natively (`NATIVE_CONSTRAINTS`), each exactly
 * as its expression reads.
 */

export interface Correction {
  kind: 'errata' | 'engine';
  /** The 4.0.1 expression, exactly as published. */
  published: string;
  expression: string;
  reason: string;
}

export const CORRECTED_CONSTRAINTS: Record<string, Correction> = {
  'que-7': {
    kind: 'errata',
    published: "operator = 'exists' implies (answer is Boolean)",
    expression: "operator = 'exists' implies (answer is boolean)",
    reason:
      "R4B (4.3.0) errata: `answer is Boolean` names System.Boolean, which a FHIR boolean never is, so every 'exists' condition " +
      'would fail; the corrected expression tests for the FHIR type `boolean`',
  },
  'que-12': {
    kind: 'errata',
    published: 'enableWhen.count() > 2 implies enableBehavior.exists()',
    expression: 'enableWhen.count() > 1 implies enableBehavior.exists()',
    reason:
      "R4B (4.3.0) errata: the human text says 'more than one enableWhen', the 4.0.1 expression tested more than two; " +
      'corrected to `enableWhen.count() > 1`',
  },
  'eld-16': {
    kind: 'engine',
    published: String.raw`sliceName.empty() or sliceName.matches('^[a-zA-Z0-9\\/\\-_\\[\\]\\@]+$')`,
    expression: String.raw`sliceName.empty() or sliceName.matches('^[a-zA-Z0-9\\/\\-_\\[\\]@]+$')`,
    reason: '`\\@` is not a valid escape in a Unicode-mode regular expression; `@` needs none',
  },
  'eld-19': {
    kind: 'engine',
    published: String.raw`path.matches('[^\\s\\.,:;\\\'"\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\.[^\\s\\.,:;\\\'"\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\[x\\])?(\\:[^\\s\\.]+)?)*')`,
    expression: String.raw`path.matches('[^\\s\\.,:;\'"\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\.[^\\s\\.,:;\'"\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\[x\\])?(:[^\\s\\.]+)?)*')`,
    reason: "`\\'` and `\\:` are not valid escapes in a Unicode-mode regular expression; `'` and `:` need none",
  },
};

/** The expression to compile for a constraint: the correction when it applies, else the published one. */
export function correctedExpression(key: string, expression: string): string {
  const c = CORRECTED_CONSTRAINTS[key];
  return c && c.published === expression ? c.expression : expression;
}

/** Minimal view of the evaluation environment a native constraint may use. */
export interface NativeEnv {
  resource: unknown;
  rootResource: unknown;
}

export interface NativeConstraint {
  published: string;
  /** `true` pass, `false` fail; `undefined` when the instance does not decide it (as an empty FHIRPath result). */
  test: (node: unknown, env: NativeEnv) => boolean | undefined;
  reason: string;
}

const LITERAL_TYPE = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/**
 * The resource type a Reference points to, as far as a pure validator can
 * tell (FHIRPath `resolve()` without fetching): a contained resource (`#id`),
 * a Bundle entry of the root resource (by fullUrl), the type named by a
 * literal reference, or `Reference.type`. `undefined` when unknown.
 */
export function referencedType(ref: unknown, env: NativeEnv): string | undefined {
  if (ref === null || typeof ref !== 'object') return undefined;
  const { reference, type } = ref as { reference?: unknown; type?: unknown };
  if (typeof reference === 'string') {
    if (reference.startsWith('#')) {
      const contained = (env.resource as { contained?: unknown } | null)?.contained;
      const hit = Array.isArray(contained) ? contained.find((c) => (c as { id?: unknown })?.id === reference.slice(1)) : undefined;
      return typeof hit?.resourceType === 'string' ? hit.resourceType : undefined;
    }
    const root = env.rootResource as { resourceType?: unknown; entry?: unknown } | null;
    if (root?.resourceType === 'Bundle' && Array.isArray(root.entry)) {
      const hit = root.entry.find((e) => (e as { fullUrl?: unknown })?.fullUrl === reference) as { resource?: { resourceType?: unknown } } | undefined;
      if (typeof hit?.resource?.resourceType === 'string') return hit.resource.resourceType;
    }
    const m = LITERAL_TYPE.exec(reference.split(/[?#]/)[0]);
    if (m) return m[1];
  }
  return typeof type === 'string' ? type : undefined;
}

export const NATIVE_CONSTRAINTS: Record<string, NativeConstraint> = {
  'ctm-1': {
    published: 'onBehalfOf.exists() implies (member.resolve().iif(empty(), true, ofType(Practitioner).exists()))',
    // https://hl7.org/fhir/R4/careteam.html#invs: onBehalfOf only when the member is a Practitioner.
    test: (node, env) => {
      const p = node as { onBehalfOf?: unknown; member?: unknown } | null;
      if (!p || p.onBehalfOf === undefined) return true;
      const type = referencedType(p.member, env);
      return type === undefined || type === 'Practitioner';
    },
    reason: 'resolve() would fetch; the member type is read from the contained resource, the Bundle entry or the literal reference instead',
  },
  'vs-1': {
    published: '($this as dateTime).toString().length() >= 8',
    // https://hl7.org/fhir/R4/observation-vitalsigns.html: an effectiveDateTime is precise to the day at least.
    // Evaluated on effectiveDateTime, whose FHIRPath string is its JSON text.
    test: (node) => (typeof node === 'string' ? node.length >= 8 : undefined),
    reason: '`as` and toString() fall outside the fast FHIRPath subset; fhirpath.js cost ~20 µs on every vital sign',
  },
};

/** The native implementation of a constraint, when it applies to this expression. */
export function nativeConstraint(key: string, expression: string): NativeConstraint | undefined {
  const n = NATIVE_CONSTRAINTS[key];
  return n && n.published === expression ? n : undefined;
}
