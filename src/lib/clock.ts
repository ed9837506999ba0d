/** Time comes from a clock that tests can replace; nothing reads `Date.now()` directly in the domain. */
export type Clock = { now(): Date };

export const systemClock: Clock = { now: () => new Date() };

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
