/** NATS subject wildcards (`*` one token, `>` the rest), matched client-side. */

/** A predicate for "the subject is one of these patterns". */
export function subjectMatcher(patterns: readonly string[]): (subject: string) => boolean {
  if (patterns.includes('>')) return () => true;
  const exact = new Set(patterns.filter((p) => !p.includes('*') && !p.includes('>')));
  const wild = patterns.filter((p) => !exact.has(p)).map((p) => p.split('.'));
  if (wild.length === 0) return (s) => exact.has(s);
  return (subject) => {
    if (exact.has(subject)) return true;
    const tokens = subject.split('.');
    return wild.some((p) => tokensMatch(p, tokens));
  };
}

function tokensMatch(pattern: readonly string[], tokens: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '>') return tokens.length > i;
    if (i >= tokens.length) return false;
    if (p !== '*' && p !== tokens[i]) return false;
  }
  return pattern.length === tokens.length;
}

/** Whether every subject `inner` can match is also matched by `outer` (for filter decisions). */
export function subjectCovers(outer: string, inner: string): boolean {
  const o = outer.split('.');
  const i = inner.split('.');
  for (let k = 0; k < o.length; k++) {
    if (o[k] === '>') return i.length > k;
    if (k >= i.length) return false;
    if (i[k] === '>') return false;
    if (o[k] !== '*' && (i[k] === '*' || o[k] !== i[k])) return false;
  }
  return o.length === i.length;
}
