/**
 * Durations as people write them in config: "500ms", "2m", "1h30m", "7d", "1y" (365 days), or a
 * number of milliseconds.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/y;

/** Milliseconds for a duration like "2m" or "1h30m"; undefined if the text is not one. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : undefined;
  const text = input.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  PART.lastIndex = 0;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    PART.lastIndex = at;
    const m = PART.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    at = PART.lastIndex;
  }
  return Math.round(total);
}

/** A short human form: 90_000 -> "1m30s". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1_000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
