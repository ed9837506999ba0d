import { describe, expect, it } from 'vitest';
import type { ScenarioResult, SuiteResult } from '../../../bench/report.ts';
import { formatScalePairs, scalePairs } from '../../../bench/scale-pairs.ts';

/** A suite with one closed-loop gateway scenario and a drain, at the given rates; loaded when `scale` is set. */
function suite(options: { create: number; drain: number | null; rss: number; scale?: number }): SuiteResult {
  const closed = (per_second: number) => ({ per_second }) as unknown as ScenarioResult['closed'];
  const scenarios: ScenarioResult[] = [
    {
      name: 'baseline_create_checkout',
      title: 'baseline',
      server: 'baseline',
      loop: 'closed',
      status: 'ok',
      closed: closed(2000),
    },
    {
      name: 'create_checkout',
      title: 'POST /v1/checkouts',
      server: 'gateway',
      loop: 'closed',
      status: 'ok',
      closed: closed(options.create),
    },
    options.drain === null
      ? {
          name: 'webhook_drain',
          title: 'drain',
          server: 'gateway',
          loop: 'drain',
          status: 'failed',
          reason: 'x',
        }
      : {
          name: 'webhook_drain',
          title: 'drain',
          server: 'gateway',
          loop: 'drain',
          status: 'ok',
          figures: { per_second: options.drain },
        },
  ];
  return {
    database: { kind: 'embedded', server_version: '17', pool_max: 10 },
    started_at: '2026-12-07T00:00:00Z',
    seconds: 1,
    scenarios,
    targets: [],
    gateway_rss_max_mb: options.rss,
    postgres_footprint_max_mb: null,
    ...(options.scale ? { scale_history: { scale: options.scale, seconds: 1, counts: {} } } : {}),
  };
}

describe('scale pairs', () => {
  const suites = [
    suite({ create: 800, drain: 4000, rss: 250 }),
    suite({ create: 700, drain: 3000, rss: 270, scale: 1 }),
    suite({ create: 820, drain: 4200, rss: 255 }),
    suite({ create: 790, drain: 3100, rss: 280, scale: 1 }),
    suite({ create: 760, drain: null, rss: 251 }),
    suite({ create: 720, drain: 3200, rss: 275, scale: 1 }),
  ];

  it("compares each gateway scenario's loaded median with its empty median", () => {
    const pairs = scalePairs('embedded', suites);
    expect(pairs.pairs).toBe(3);
    expect(pairs.rows.map((row) => row.scenario)).toEqual([
      'baseline_create_checkout',
      'create_checkout',
      'webhook_drain',
    ]);
    expect(pairs.rows[0]!.status).toBe('not judged');
    const create = pairs.rows[1]!;
    expect(create.empty).toEqual([800, 820, 760]);
    expect(create.loaded).toEqual([700, 790, 720]);
    expect(create.empty_median).toBe(800);
    expect(create.loaded_median).toBe(720);
    expect(create.change).toBeCloseTo(-0.1, 10);
    expect(create.status).toBe('met');
    // A failed run is left out of the median, not counted as zero.
    const drain = pairs.rows[2]!;
    expect(drain.empty).toEqual([4000, 4200, null]);
    expect(drain.empty_median).toBe(4100);
    expect(drain.loaded_median).toBe(3100);
    expect(drain.status).toBe('missed');
    expect(pairs.gateway_rss_max_mb).toEqual({ empty: [250, 255, 251], loaded: [270, 280, 275] });
  });

  it('prints the pairs as a table with the verdict per scenario', () => {
    const text = formatScalePairs({
      scale_pairs: [scalePairs('embedded', suites)],
    } as Parameters<typeof formatScalePairs>[0]);
    expect(text).toContain('3 alternating pairs (embedded PostgreSQL)');
    expect(text).toContain(
      '| POST /v1/checkouts | 800 / 820 / 760 | 700 / 790 / 720 | 800 | 720 | -10.0 % | **met** |',
    );
    expect(text).toContain(
      '| drain | 4,000 / 4,200 / — | 3,000 / 3,100 / 3,200 | 4,100 | 3,100 | -24.4 % | missed |',
    );
  });
});
