const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

const DURATION_RE = /^(\d{1,9})(s|m|h|d|w)$/;

/**
 * Milliseconds of a duration such as `30m`, `12h`, `7d` or `2w` (units s, m, h, d, w; a
 * whole number before the unit), or undefined when the text is not one. Zero parses; callers
 * decide whether it makes sense.
 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
