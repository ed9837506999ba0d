import { throughputOf, type BenchReport, type SuiteResult } from './report.ts';

/**
 * `npm run bench -- --scale --pairs N`: the suite on an empty database, then on a loaded one (bench/scale-history.ts),
 * N times alternately, so that both halves of a pair meet the same state of the machine. Each scenario's
 * throughput on the loaded database is compared with its empty-database figure by the medians of the N runs of
 * each: the bar is that no scenario loses more than 15 % (docs/performance.md, "Scale with data").
 */

export const SCALE_PAIR_TOLERANCE = 0.15;

export type ScalePairRow = {
  scenario: string;
  title: string;
  /** The baseline's own rows are shown beside (they tell how much the machine drifted), not judged. */
  server: 'gateway' | 'baseline';
  /** ops/s of each run, in run order (null: the scenario did not run or failed in that run). */
  empty: (number | null)[];
  loaded: (number | null)[];
  empty_median: number | null;
  loaded_median: number | null;
  /** loaded median ÷ empty median − 1 (−0.08 = 8 % slower on the loaded database). */
  change: number | null;
  status: 'met' | 'missed' | 'unavailable' | 'not judged';
};

export type ScalePairs = {
  database: 'embedded' | 'external';
  pairs: number;
  rows: ScalePairRow[];
  /** The gateway's largest RSS of each suite: the loaded database must not push it past the bar either. */
  gateway_rss_max_mb: { empty: (number | null)[]; loaded: (number | null)[] };
};

function median(values: (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const middle = Math.floor(known.length / 2);
  return known.length % 2 ? known[middle]! : (known[middle - 1]! + known[middle]!) / 2;
}

/** The pairs of one database kind: its suites in run order, empty and loaded alternately. */
export function scalePairs(kind: ScalePairs['database'], suites: SuiteResult[]): ScalePairs {
  const ofKind = suites.filter((suite) => suite.database.kind === kind);
  const empty = ofKind.filter((suite) => !suite.scale_history && !suite.error);
  const loaded = ofKind.filter((suite) => suite.scale_history && !suite.error);
  const names = new Map<string, { title: string; server: ScalePairRow['server'] }>();
  for (const suite of ofKind)
    for (const scenario of suite.scenarios)
      names.set(scenario.name, { title: scenario.title, server: scenario.server });
  const rateIn = (suite: SuiteResult, name: string) =>
    throughputOf(suite.scenarios.find((scenario) => scenario.name === name)) ?? null;
  const rows = [...names].map(([scenario, { title, server }]): ScalePairRow => {
    const emptyRates = empty.map((suite) => rateIn(suite, scenario));
    const loadedRates = loaded.map((suite) => rateIn(suite, scenario));
    const emptyMedian = median(emptyRates);
    const loadedMedian = median(loadedRates);
    const change = emptyMedian && loadedMedian !== null ? loadedMedian / emptyMedian - 1 : null;
    return {
      scenario,
      title,
      server,
      empty: emptyRates,
      loaded: loadedRates,
      empty_median: emptyMedian,
      loaded_median: loadedMedian,
      change,
      status:
        server === 'baseline'
          ? 'not judged'
          : change === null
            ? 'unavailable'
            : change >= -SCALE_PAIR_TOLERANCE
              ? 'met'
              : 'missed',
    };
  });
  return {
    database: kind,
    pairs: Math.min(empty.length, loaded.length),
    rows,
    gateway_rss_max_mb: {
      empty: empty.map((suite) => suite.gateway_rss_max_mb),
      loaded: loaded.map((suite) => suite.gateway_rss_max_mb),
    },
  };
}

const number = (value: number | null, digits = 0) =>
  value === null
    ? '—'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function formatScalePairs(report: BenchReport): string {
  const lines: string[] = [];
  for (const pairs of report.scale_pairs ?? []) {
    lines.push(
      `## Scale pairs: empty vs loaded, ${pairs.pairs} alternating pairs (${pairs.database} PostgreSQL)`,
      '',
      `ops/s of each run (empty and loaded suites alternate: empty 1, loaded 1, empty 2, …), the medians, and the loaded median's change; a scenario meets the bar when it loses at most ${SCALE_PAIR_TOLERANCE * 100} %.`,
      '',
      `| Scenario | empty runs | loaded runs | empty median | loaded median | change | Status |`,
      '|---|---|---|---:|---:|---:|---|',
      ...pairs.rows.map(
        (row) =>
          `| ${row.title} | ${row.empty.map((value) => number(value)).join(' / ')} | ${row.loaded.map((value) => number(value)).join(' / ')} | ${number(row.empty_median)} | ${number(row.loaded_median)} | ${row.change === null ? '—' : `${row.change >= 0 ? '+' : ''}${number(row.change * 100, 1)} %`} | ${row.status === 'met' ? '**met**' : row.status} |`,
      ),
      '',
      `Gateway RSS (largest of each suite): empty ${pairs.gateway_rss_max_mb.empty.map((value) => `${number(value)} MB`).join(' / ')}; loaded ${pairs.gateway_rss_max_mb.loaded.map((value) => `${number(value)} MB`).join(' / ')}.`,
      '',
    );
  }
  return lines.join('\n');
}
