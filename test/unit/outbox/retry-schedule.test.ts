import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../../src/config.ts';
import {
  DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS,
  RETRY_AFTER_CAP_SECONDS,
  RETRY_JITTER_RATIO,
  judgeAttempt,
  maxAttempts,
  parseRetryAfter,
  parseRetrySchedule,
  retryDelaySeconds,
} from '../../../src/outbox/retry-schedule.ts';

const now = new Date('2025-03-01T12:00:00Z');
const schedule = [5, 300, 1800];
const response = (status: number, headers: Record<string, string> = {}) => ({
  kind: 'response' as const,
  status,
  headers,
});

describe('retry schedule', () => {
  it('spans about three days in ten attempts by default', () => {
    const total = DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS.reduce((sum, s) => sum + s, 0);
    expect(maxAttempts(DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS)).toBe(10);
    expect(total / 3600).toBeGreaterThan(70);
    expect(total / 3600).toBeLessThan(80);
    expect([...DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS]).toEqual(
      [...DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS].sort((a, b) => a - b),
    );
  });

  it('jitters every delay within ±10 % and returns null once attempts are exhausted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, r) => {
          const delay = retryDelaySeconds(schedule, n, () => r)!;
          const base = schedule[n - 1]!;
          expect(delay).toBeGreaterThanOrEqual(base * (1 - RETRY_JITTER_RATIO));
          expect(delay).toBeLessThanOrEqual(base * (1 + RETRY_JITTER_RATIO));
        },
      ),
    );
    expect(retryDelaySeconds(schedule, 4)).toBeNull();
  });

  it('parses KASSA_WEBHOOK_RETRY_SCHEDULE and refuses nonsense', () => {
    expect(parseRetrySchedule('0.2, 0.4,1')).toEqual([0.2, 0.4, 1]);
    for (const bad of ['', '0', '-1', 'abc', '1,,2', '1e3', `${8 * 86_400}`]) {
      expect(() => parseRetrySchedule(bad), bad).toThrow();
    }
    expect(
      loadConfig({ KASSA_ENV: 'test', KASSA_WEBHOOK_RETRY_SCHEDULE: '0.2,0.4' }).webhookRetryScheduleSeconds,
    ).toEqual([0.2, 0.4]);
    expect(loadConfig({ KASSA_ENV: 'test' }).webhookRetryScheduleSeconds).toEqual([
      ...DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS,
    ]);
    expect(() => loadConfig({ KASSA_ENV: 'test', KASSA_WEBHOOK_RETRY_SCHEDULE: 'soon' })).toThrow(
      ConfigError,
    );
  });
});

describe('judgeAttempt', () => {
  const context = { attemptNumber: 1, schedule, now, random: () => 0.5 }; // 0.5 → no jitter

  it('treats every 2xx as success and nothing else', () => {
    for (const status of [200, 201, 202, 204, 299])
      expect(judgeAttempt(response(status), context)).toEqual({ result: 'succeeded' });
    for (const status of [100, 199, 300, 301, 302, 304, 307, 308, 400, 404, 409, 500, 502, 504]) {
      expect(judgeAttempt(response(status), context)).toMatchObject({
        result: 'failed',
        retryInSeconds: 5,
        disableEndpoint: false,
      });
    }
  });

  it('explains that redirects are not followed', () => {
    expect(judgeAttempt(response(301, { location: 'https://elsewhere.example/' }), context)).toMatchObject({
      error: expect.stringMatching(/^HTTP 301: redirects are not followed/),
    });
  });

  it('410 Gone is final and disables the endpoint', () => {
    expect(judgeAttempt(response(410), context)).toMatchObject({
      result: 'failed',
      retryInSeconds: null,
      disableEndpoint: true,
    });
  });

  it('network failures are retried and keep their message', () => {
    expect(judgeAttempt({ kind: 'error', error: 'connect_timeout: Connect timed out' }, context)).toEqual({
      result: 'failed',
      retryInSeconds: 5,
      disableEndpoint: false,
      error: 'connect_timeout: Connect timed out',
    });
  });

  it('Retry-After on 429/503 postpones the next attempt, capped, never brings it forward', () => {
    expect(judgeAttempt(response(503, { 'retry-after': '120' }), context)).toMatchObject({
      retryInSeconds: 120,
    });
    expect(judgeAttempt(response(429, { 'retry-after': '1' }), context)).toMatchObject({ retryInSeconds: 5 });
    expect(judgeAttempt(response(429, { 'retry-after': '999999999' }), context)).toMatchObject({
      retryInSeconds: RETRY_AFTER_CAP_SECONDS,
    });
    expect(
      judgeAttempt(response(503, { 'retry-after': 'Sat, 01 Mar 2025 12:10:00 GMT' }), context),
    ).toMatchObject({ retryInSeconds: 600 });
    // Other statuses ignore it; an exhausted delivery stays exhausted.
    expect(judgeAttempt(response(500, { 'retry-after': '120' }), context)).toMatchObject({
      retryInSeconds: 5,
    });
    expect(
      judgeAttempt(response(503, { 'retry-after': '120' }), { ...context, attemptNumber: 4 }),
    ).toMatchObject({
      retryInSeconds: null,
    });
  });

  it('parses Retry-After as delta-seconds or an HTTP-date only', () => {
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter('Sat, 01 Mar 2025 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter('1.5', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
  });
});
