export interface RageOptions {
  clicks: number;
  windowMs: number;
  radiusPx: number;
}

export const RAGE_DEFAULTS: RageOptions = { clicks: 3, windowMs: 1000, radiusPx: 30 };

/** Detects bursts of clicks on one spot: the signal of a user fighting an unresponsive UI. */
export class RageDetector {
  private recent: { x: number; y: number; t: number }[] = [];

  constructor(private readonly o: RageOptions = RAGE_DEFAULTS) {}

  /** Records a click; true when it is part of a rage burst (the `clicks`-th or later). */
  hit(x: number, y: number, t: number): boolean {
    const r2 = this.o.radiusPx ** 2;
    this.recent = this.recent.filter(
      (c) => t - c.t <= this.o.windowMs && (c.x - x) ** 2 + (c.y - y) ** 2 <= r2,
    );
    this.recent.push({ x, y, t });
    return this.recent.length >= this.o.clicks;
  }
}
