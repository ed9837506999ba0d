import type { ClosedLoopResult, OpenLoopResult } from './load-generator.ts';
import type { ScenarioResources } from './process-monitor.ts';
import type { ScalePairs } from './scale-pairs.ts';

/**
 * The benchmark's results as data (latest.json) and as a Markdown report (latest.md): every scenario with
 * its ratio to the baseline measured in the same run, and the issue's targets marked met / missed /
 * unavailable.
 */

export type ScenarioStatus = 'ok' | 'unavailable' | 'failed';

export type ScenarioResult = {
  name: string;
  title: string;
  /** Which process served it: the gateway, or the baseline server. */
  server: 'gateway' | 'baseline';
  loop: 'closed' | 'open' | 'drain';
  status: ScenarioStatus;
  /** Why a scenario is unavailable or failed. */
  reason?: string;
  closed?: ClosedLoopResult;
  open?: OpenLoopResult;
  /** Scenario-specific figures (webhook counts, drain times, …). */
  figures?: Record<string, number | string | boolean | null>;
  /** One line for the report's Notes column. */
  note?: string;
  resources?: ScenarioResources;
};

export type TargetResult = {
  target: string;
  measured: string;
  status: 'met' | 'missed' | 'unavailable';
};

export type SuiteResult = {
  database: { kind: 'embedded' | 'external'; server_version: string | null; pool_max: number };
  started_at: string;
  seconds: number;
  scenarios: ScenarioResult[];
  targets: TargetResult[];
  /** Largest gateway RSS over every gateway scenario. */
  gateway_rss_max_mb: number | null;
  postgres_footprint_max_mb: number | null;
  /** `--scale`: the history loaded before the scenarios (bench/scale-history.ts). */
  scale_history?: { scale: number; seconds: number; counts: Record<string, number> };
  /** Set when the suite could not run at all (the gateway did not start, the database was unreachable, …). */
  error?: string;
};

export type BenchReport = {
  generated_at: string;
  machine: {
    nproc: number;
    cpu_model: string;
    memory_gb: number;
    kernel: string;
    node_version: string;
    git_commit: string | null;
    /** Tracked files differed from the commit (bench/results aside) when the run started. */
    git_uncommitted_changes: boolean;
    /** 1-minute load average when the run started (other work on the box makes figures noisy). */
    load_average_at_start: number;
  };
  settings: {
    quick: boolean;
    warmup_seconds: number;
    duration_seconds: number;
    connections: number;
    open_loop_rates: number[];
    log_level: string;
    webhook_drain_events: number;
    /** `--scale`: the size of the history loaded first (1 = full); absent on an empty-database run. */
    scale?: number;
    /** `--runs N`: every database kind's suite ran N times in a row (each a fresh gateway and database). */
    runs?: number;
    /** `--scale --pairs N`: N alternating pairs of suites, an empty database then a loaded one. */
    pairs?: number;
  };
  /** `--scale --pairs N`: per database kind, each scenario's loaded median against its empty median. */
  scale_pairs?: ScalePairs[];
  /** `--runs N`: per database kind, each bar figure's median over the runs. */
  bar_medians?: {
    database: 'embedded' | 'external';
    figures: (BarFigure & { values: (number | null)[] })[];
  }[];
  suites: SuiteResult[];
};

const fmt = (value: number | null | undefined, digits = 0) =>
  value === null || value === undefined || Number.isNaN(value)
    ? '—'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function find(suite: { scenarios: ScenarioResult[] }, name: string) {
  return suite.scenarios.find((scenario) => scenario.name === name);
}

/** Throughput of a scenario: closed-loop OK/s, or the scenario's own rate figure (drain). */
export function throughputOf(scenario: ScenarioResult | undefined): number | undefined {
  if (!scenario || scenario.status !== 'ok') return undefined;
  if (scenario.closed) return scenario.closed.per_second;
  if (scenario.open) return scenario.open.per_second;
  const rate = scenario.figures?.per_second;
  return typeof rate === 'number' ? rate : undefined;
}

/**
 * The current bar (docs/performance.md, "Targets"): same-run ratios to the baseline, the drain's absolute
 * rate and the gateway's RSS. Each figure is a number so that several runs can be reduced to a median.
 */
export const BAR = [
  { target: 'full payment ≥ 0.15× the baseline', scenario: 'full_payment', kind: 'ratio', min: 0.15 },
  { target: 'POST /v1/checkouts ≥ 0.6× the baseline', scenario: 'create_checkout', kind: 'ratio', min: 0.6 },
  { target: 'hosted page GET ≥ 2× the baseline', scenario: 'hosted_page', kind: 'ratio', min: 2 },
  { target: 'webhook drain (20,000 events) ≥ 4,000/s', scenario: 'webhook_drain', kind: 'rate', min: 4000 },
  { target: 'gateway RSS under load ≤ 300 MB', scenario: null, kind: 'rss', max: 300 },
] as const;

export type BarFigure = { target: string; value: number | null; status: TargetResult['status'] };

export function barFigures(suite: Pick<SuiteResult, 'scenarios' | 'gateway_rss_max_mb'>): BarFigure[] {
  const baselineRate = throughputOf(find(suite, 'baseline_create_checkout'));
  return BAR.map((item) => {
    let value: number | undefined;
    if (item.kind === 'rss') value = suite.gateway_rss_max_mb ?? undefined;
    else {
      const rate = throughputOf(find(suite, item.scenario));
      value =
        item.kind === 'rate' ? rate : rate !== undefined && baselineRate ? rate / baselineRate : undefined;
    }
    if (value === undefined) return { target: item.target, value: null, status: 'unavailable' };
    const met = 'min' in item ? value >= item.min : value <= item.max;
    return { target: item.target, value, status: met ? 'met' : 'missed' };
  });
}

/** The median of each bar figure over several runs of one database kind (`--runs N`). */
export function barMedians(suites: SuiteResult[]): (BarFigure & { values: (number | null)[] })[] {
  const perRun = suites.map((suite) => barFigures(suite));
  return BAR.map((item, index) => {
    const values = perRun.map((figures) => figures[index]!.value);
    const known = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
    if (known.length === 0) return { target: item.target, value: null, status: 'unavailable', values };
    const middle = Math.floor(known.length / 2);
    const median = known.length % 2 ? known[middle]! : (known[middle - 1]! + known[middle]!) / 2;
    const met = 'min' in item ? median >= item.min : median <= item.max;
    return { target: item.target, value: median, status: met ? 'met' : 'missed', values };
  });
}

export function formatBarValue(target: string, value: number | null): string {
  if (value === null) return '—';
  if (target.includes('×')) return `${fmt(value, 2)}×`;
  if (target.includes('MB')) return `${fmt(value)} MB`;
  return `${fmt(value)}/s`;
}

export function evaluateTargets(
  suite: Pick<SuiteResult, 'scenarios' | 'gateway_rss_max_mb'>,
): TargetResult[] {
  const targets: TargetResult[] = [];
  const add = (
    target: string,
    value: number | undefined,
    measured: string,
    met: (value: number) => boolean,
  ) =>
    targets.push({
      target,
      measured: value === undefined ? measured || 'not measured' : measured,
      status: value === undefined ? 'unavailable' : met(value) ? 'met' : 'missed',
    });
  const reasonOf = (scenario: ScenarioResult | undefined) =>
    scenario ? `${scenario.status}${scenario.reason ? `: ${scenario.reason}` : ''}` : 'not run';

  const create = find(suite, 'create_checkout');
  const baseline = find(suite, 'baseline_create_checkout');
  const createRate = throughputOf(create);
  const baselineRate = throughputOf(baseline);
  add(
    'create-checkout ≥ 1,500/s closed loop',
    createRate,
    createRate === undefined ? reasonOf(create) : `${fmt(createRate)}/s`,
    (v) => v >= 1500,
  );
  const ratio = createRate !== undefined && baselineRate ? createRate / baselineRate : undefined;
  add(
    'create-checkout ≥ 70 % of the baseline',
    ratio,
    ratio === undefined
      ? reasonOf(baselineRate ? create : baseline)
      : `${fmt(ratio * 100)} % (${fmt(createRate)} / ${fmt(baselineRate)})`,
    (v) => v >= 0.7,
  );
  const open = find(suite, 'create_checkout_open_1000');
  const openP99 = open?.status === 'ok' && open.open ? open.open.p99_ms : undefined;
  // A saturated open loop (requests not sent or never answered) misses, whatever its recorded p99.
  add(
    'create-checkout p99 ≤ 25 ms at 1,000/s open loop',
    openP99 === undefined ? undefined : open?.open?.saturated ? Number.POSITIVE_INFINITY : openP99,
    openP99 === undefined
      ? reasonOf(open)
      : `p99 ${fmt(openP99, 1)} ms (p50 ${fmt(open?.open?.p50_ms, 1)} ms)${open?.open?.saturated ? ', saturated' : ''}`,
    (v) => v <= 25,
  );
  const page = find(suite, 'hosted_page');
  const pageRate = throughputOf(page);
  add(
    'hosted page ≥ 5,000/s',
    pageRate,
    pageRate === undefined ? reasonOf(page) : `${fmt(pageRate)}/s`,
    (v) => v >= 5000,
  );
  const payment = find(suite, 'full_payment');
  const paymentRate = throughputOf(payment);
  add(
    'full payments ≥ 500/s',
    paymentRate,
    paymentRate === undefined ? reasonOf(payment) : `${fmt(paymentRate)}/s`,
    (v) => v >= 500,
  );
  const drain = find(suite, 'webhook_drain');
  const drainRate = throughputOf(drain);
  add(
    'webhook deliveries ≥ 5,000/s',
    drainRate,
    drainRate === undefined ? reasonOf(drain) : `${fmt(drainRate)}/s`,
    (v) => v >= 5000,
  );
  const rss = suite.gateway_rss_max_mb ?? undefined;
  add(
    'server RSS ≤ 300 MB under load',
    rss,
    rss === undefined ? 'not measured' : `${fmt(rss)} MB (gateway process, max)`,
    (v) => v <= 300,
  );
  return targets;
}

function vsBaseline(suite: SuiteResult, scenario: ScenarioResult): string {
  if (scenario.status !== 'ok' || scenario.loop === 'drain') return '—';
  if (scenario.name.startsWith('baseline_')) return '1.00× (itself)';
  if (scenario.open) {
    const baselineOpen = find(suite, `baseline_open_${scenario.open.offered_rate}`);
    if (baselineOpen?.status === 'ok' && baselineOpen.open?.p99_ms)
      return `p99 ${fmt(scenario.open.p99_ms / baselineOpen.open.p99_ms, 2)}× baseline`;
    return '—';
  }
  const baselineRate = throughputOf(find(suite, 'baseline_create_checkout'));
  const rate = throughputOf(scenario);
  return baselineRate && rate !== undefined ? `${fmt(rate / baselineRate, 2)}×` : '—';
}

function scenarioRow(suite: SuiteResult, scenario: ScenarioResult): string {
  const loop = scenario.closed
    ? `closed c${scenario.closed.connections}`
    : scenario.open
      ? `open ${fmt(scenario.open.offered_rate)}/s`
      : scenario.loop;
  const stats = scenario.closed ?? scenario.open;
  const resources = scenario.resources;
  const note =
    scenario.status === 'ok'
      ? (scenario.note ?? '')
      : `**${scenario.status}**${scenario.reason ? `: ${scenario.reason.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 200)}` : ''}`;
  const cells = [
    scenario.title,
    loop,
    scenario.status === 'ok' ? fmt(throughputOf(scenario)) : '—',
    fmt(stats?.p50_ms, 1),
    fmt(stats?.p99_ms, 1),
    fmt(stats?.max_ms, 1),
    stats ? fmt(stats.errors) : '—',
    vsBaseline(suite, scenario),
    resources
      ? `${fmt(resources.gateway_cpu_percent)} / ${fmt(resources.postgres_cpu_percent)} / ${fmt(resources.bench_cpu_percent)} / ${fmt(resources.other_cpu_percent)}`
      : '—',
    resources ? fmt(resources.gateway_rss_max_mb) : '—',
    note,
  ];
  return `| ${cells.join(' | ')} |`;
}

export function formatSuite(report: BenchReport, suite: SuiteResult): string {
  const kind =
    suite.database.kind === 'embedded'
      ? 'embedded PostgreSQL (child of the gateway)'
      : 'external PostgreSQL (DATABASE_URL)';
  const lines = [
    `## ${kind}`,
    '',
    `${suite.database.server_version ?? 'unknown version'}; pool max ${suite.database.pool_max} in the gateway and in the baseline; ${fmt(suite.seconds)} s for this suite.`,
    '',
    ...(suite.scale_history
      ? [
          `Loaded first (scale ×${suite.scale_history.scale}, ${fmt(suite.scale_history.seconds, 1)} s in SQL, VACUUM (ANALYZE) and CHECKPOINT included): ${Object.entries(
            suite.scale_history.counts,
          )
            .map(([table, n]) => `${table} ${fmt(n)}`)
            .join(', ')}.`,
          '',
        ]
      : []),
    ...(suite.error ? [`**This suite failed:** ${suite.error.replace(/\n/g, ' ').slice(0, 600)}`, ''] : []),
    '| Scenario | Loop | ops/s | p50 ms | p99 ms | max ms | errors | vs baseline | CPU % server / PG / bench / other | server RSS MB | Notes |',
    '|---|---|---:|---:|---:|---:|---:|---|---|---:|---|',
    ...suite.scenarios.map((scenario) => scenarioRow(suite, scenario)),
    '',
    '| The bar (docs/performance.md) | Measured | Status |',
    '|---|---|---|',
    ...barFigures(suite).map(
      (figure) =>
        `| ${figure.target} | ${formatBarValue(figure.target, figure.value)} | ${figure.status === 'met' ? '**met**' : figure.status} |`,
    ),
    '',
    '| First targets (docs/performance.md) | Measured | Status |',
    '|---|---|---|',
    ...suite.targets.map(
      (target) =>
        `| ${target.target} | ${target.measured.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 240)} | ${target.status === 'met' ? '**met**' : target.status} |`,
    ),
    '',
  ];
  if (suite.database.kind === 'external')
    lines.push(
      'The external PostgreSQL server is not sampled: its CPU is part of "other" (so "other" is not a disturbance measure here) and its memory is not reported.',
      '',
    );
  if (suite.postgres_footprint_max_mb !== null)
    lines.push(
      `PostgreSQL under load (not part of the server-RSS target): up to ${fmt(suite.postgres_footprint_max_mb)} MB (private memory of every postgres process + the shared segment once).`,
      '',
    );
  void report;
  return lines.join('\n');
}

/** `--runs N`: per database kind, each bar figure's median over the runs (a target is judged on it). */
function formatMedians(report: BenchReport): string[] {
  const runs = report.settings.runs ?? 1;
  if (runs < 2) return [];
  const lines: string[] = [];
  for (const kind of ['embedded', 'external'] as const) {
    const suites = report.suites.filter((suite) => suite.database.kind === kind && !suite.error);
    if (suites.length === 0) continue;
    lines.push(
      `## The bar: medians of ${suites.length} runs (${kind} PostgreSQL)`,
      '',
      `| Target | ${suites.map((_, index) => `run ${index + 1}`).join(' | ')} | median | Status |`,
      `|---|${suites.map(() => '---:|').join('')}---:|---|`,
      ...barMedians(suites).map(
        (figure) =>
          `| ${figure.target} | ${figure.values.map((value) => formatBarValue(figure.target, value)).join(' | ')} | ${formatBarValue(figure.target, figure.value)} | ${figure.status === 'met' ? '**met**' : figure.status} |`,
      ),
      '',
    );
  }
  return lines;
}

export function formatReport(report: BenchReport): string {
  const { machine, settings } = report;
  return [
    settings.pairs !== undefined
      ? '# Kassa benchmark — scale pairs (empty and loaded databases alternately)'
      : settings.scale !== undefined
        ? '# Kassa benchmark — scale run (a loaded database)'
        : '# Kassa benchmark — latest results',
    '',
    ...(settings.scale !== undefined && settings.pairs === undefined
      ? [
          `**Scale run**: before the scenarios, the database was loaded with a generated history (\`--scale=${settings.scale}\`, bench/scale-history.ts; counts below). Compare with an empty-database run of the same sitting, not with bench/results/latest.json.`,
          '',
        ]
      : []),
    `Generated ${report.generated_at} by \`npm run bench${settings.scale !== undefined ? ` -- --scale=${settings.scale}` : ''}${settings.pairs !== undefined ? ` --pairs ${settings.pairs}` : ''}\`${settings.quick ? ' (--quick)' : ''}. ` +
      `Machine: ${machine.nproc} × ${machine.cpu_model}, ${fmt(machine.memory_gb)} GiB, Linux ${machine.kernel}, Node ${machine.node_version}` +
      `${machine.git_commit ? `, commit ${machine.git_commit.slice(0, 12)}${machine.git_uncommitted_changes ? ' (plus uncommitted work)' : ''}` : ''}` +
      `; load average ${fmt(machine.load_average_at_start, 2)} at the start.`,
    '',
    `Closed loop: ${settings.connections} connections, ${settings.warmup_seconds} s warm-up then ${settings.duration_seconds} s measured. ` +
      `Open loop: constant arrival rate, latency from each request's intended send time. ` +
      `The load generator, the server and PostgreSQL share the same ${machine.nproc} cores; gateway log level ${settings.log_level}. ` +
      'Compare figures within one run only (the VM is noisy); see docs/performance.md.',
    '',
    'ops/s: successful operations per second (a full payment is one operation of two requests). "vs baseline": throughput as a multiple of the baseline closed loop (open loop: p99 as a multiple of the baseline\'s p99 at the same rate). CPU % is of one core (200 % = the whole box); "other" is everything else the box did meanwhile (another process, the idle server of the other kind, the kernel) — when it is large, the run was disturbed.',
    '',
    ...report.suites.map((suite) => formatSuite(report, suite)),
    ...formatMedians(report),
  ].join('\n');
}
