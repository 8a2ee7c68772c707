/** Where services read the time, so tests can move it instead of sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * Where a manual clock starts unless told otherwise: a fixed instant, so a test
 * run does not depend on the day or the second it runs at (windows, expiries
 * and retry delays fall the same way every time). It sits on a whole hour, so
 * it starts every throttle window.
 */
export const MANUAL_CLOCK_START = "2026-11-29T10:00:00.000Z";

/** A clock that stands still until moved (tests). */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date | string = MANUAL_CLOCK_START) {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(to: Date | string): void {
    this.current = new Date(to).getTime();
  }
}

export const DAY_MS = 24 * 60 * 60 * 1000;
