/** A FHIRPath expression cut at one separator character, outside parentheses and quoted strings. */
export interface TopLevelSplit {
  /** The pieces, trimmed (empty ones kept). */
  parts: string[];
  /** A backslash escape occurred inside a quoted string. */
  escaped: boolean;
  /** Parentheses and quotes were all closed. */
  balanced: boolean;
}

export function splitTopLevel(text: string, separator: string): TopLevelSplit {
  const parts: string[] = [];
  let depth = 0;
  let quote = false;
  let escaped = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') {
        escaped = true;
        i++;
      } else if (c === "'") quote = false;
    } else if (c === "'") quote = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === separator && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return { parts, escaped, balanced: depth === 0 && !quote };
}
