/** W3C `traceparent` parsing and the trace fields of log lines (src/metrics/trace-context.ts). */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/http/logging.ts';
import {
  continueTrace,
  currentTraceparent,
  formatTraceparent,
  parseTraceparent,
  runInTrace,
  startTrace,
} from '../../src/metrics/index.ts';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('parseTraceparent', () => {
  it('accepts a well-formed version 00 header', () => {
    expect(parseTraceparent(VALID)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentSpanId: '00f067aa0ba902b7',
      flags: '01',
    });
  });

  it('accepts a later version with extra fields, and refuses what the specification calls invalid', () => {
    expect(parseTraceparent(`01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra`)?.traceId).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    for (const invalid of [
      '',
      'garbage',
      `${VALID}-extra`, // version 00 has exactly four fields
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // version ff
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // all-zero trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // all-zero parent id
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', // short trace id
    ]) {
      expect(parseTraceparent(invalid), invalid).toBeUndefined();
    }
  });

  it('continues a valid trace with a new span id, and starts a new trace otherwise', () => {
    const continued = startTrace(VALID);
    expect(continued.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(continued.parentSpanId).toBe('00f067aa0ba902b7');
    expect(continued.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(continued.spanId).not.toBe('00f067aa0ba902b7');
    const fresh = startTrace('00-zz-00f067aa0ba902b7-01');
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh.flags).toBe('00');
    expect(startTrace(undefined).traceId).not.toBe(fresh.traceId);
  });
});

describe('continueTrace', () => {
  it('continues a stored trace under its span, else the running one, else a new valid trace each time', () => {
    const stored = continueTrace(VALID);
    expect(formatTraceparent(stored)).toBe(VALID);
    const running = startTrace(undefined);
    expect(runInTrace(running, () => continueTrace(null))).toBe(running);
    const fresh = Array.from({ length: 200 }, () => formatTraceparent(continueTrace(null)));
    for (const header of fresh) expect(parseTraceparent(header), header).toBeDefined();
    expect(new Set(fresh.map((header) => parseTraceparent(header)?.traceId)).size).toBe(fresh.length);
    expect(new Set(fresh.map((header) => parseTraceparent(header)?.parentSpanId)).size).toBe(fresh.length);
  });
});

describe('trace context in logs and outgoing requests', () => {
  it('adds trace_id to every line written inside a trace, and nothing outside one', () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const options = loggerOptions({ level: 'info', stream });
    const logger = pino({ ...options, stream: undefined } as pino.LoggerOptions, stream);
    const trace = startTrace(VALID);
    runInTrace(trace, () => logger.child({ worker: 'x' }).info('inside'));
    logger.info('outside');
    const [inside, outside] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(inside).toMatchObject({ msg: 'inside', trace_id: trace.traceId });
    expect(outside).not.toHaveProperty('trace_id');
    expect(currentTraceparent()).toBeUndefined();
    expect(runInTrace(trace, () => currentTraceparent())).toBe(`00-${trace.traceId}-${trace.spanId}-01`);
  });
});
