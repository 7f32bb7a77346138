// JSON from outside the process (a node's HTTP requests), parsed only once a linear pre-scan has
// shown its nesting is shallow: canonicalizing and checking a deeply nested value would recurse
// until the stack overflows, so such a value is refused before anything walks it.

/** The deepest nesting of arrays and objects in `text`, counted outside strings, or -1 past `limit`. */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return -1;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** JSON.parse, refusing text nested deeper than `maxDepth` before it is parsed. */
export function parseShallowJson(text: string, maxDepth: number): unknown {
  if (nestingDepth(text, maxDepth) < 0) throw new Error(`it is nested deeper than ${maxDepth} levels`);
  return JSON.parse(text);
}
