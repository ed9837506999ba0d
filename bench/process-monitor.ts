import { readdir, readFile } from 'node:fs/promises';

/**
 * Samples memory and CPU of the processes under test from /proc (Linux only): the gateway process itself,
 * and its descendants (the embedded PostgreSQL postmaster and its backends) separately.
 *
 * Memory: VmRSS of the gateway; for PostgreSQL both the plain sum of VmRSS (which counts the shared buffers
 * once per backend that touched them, so it overstates) and RssAnon summed + the largest RssShmem (private
 * memory of every process plus the shared segment once — the better estimate of what the cluster holds).
 * CPU: utime + stime deltas between `mark()` calls, as a share of one core.
 */

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node supports

export type MemorySample = { gatewayRssMb: number; postgresRssSumMb: number; postgresFootprintMb: number; postgresProcesses: number };

export type ScenarioResources = {
  samples: number;
  gateway_rss_max_mb: number;
  postgres_rss_sum_max_mb: number | null;
  postgres_footprint_max_mb: number | null;
  postgres_processes_max: number | null;
  /** Average CPU over the scenario, in % of ONE core (200 % = both cores of this box). */
  gateway_cpu_percent: number;
  postgres_cpu_percent: number | null;
  bench_cpu_percent: number;
};

type ProcStatus = { rssKb: number; anonKb: number; shmemKb: number };

async function readStatus(pid: number): Promise<ProcStatus | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { rssKb: field('VmRSS'), anonKb: field('RssAnon'), shmemKb: field('RssShmem') };
  } catch {
    return undefined; // the process has ended
  }
}

/** [ppid, utime + stime in ticks] from /proc/<pid>/stat (the command name may contain spaces and parens). */
async function readStat(pid: number): Promise<{ ppid: number; ticks: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) … utime(11) stime(12)
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** Descendants of `rootPid` whose command is `postgres` (not, e.g., a transpiler's helper process). */
async function findPostgresDescendants(rootPid: number): Promise<{ pid: number; ticks: number }[]> {
  const entries = await readdir('/proc');
  const stats = new Map<number, { ppid: number; ticks: number }>();
  await Promise.all(
    entries
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        const stat = await readStat(Number(name));
        if (stat) stats.set(Number(name), stat);
      }),
  );
  const descendants: { pid: number; ticks: number }[] = [];
  const frontier = [rootPid];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [pid, stat] of stats) {
      if (stat.ppid === parent) {
        descendants.push({ pid, ticks: stat.ticks });
        frontier.push(pid);
      }
    }
  }
  const commands = await Promise.all(
    descendants.map((child) => readFile(`/proc/${child.pid}/comm`, 'utf8').catch(() => '')),
  );
  return descendants.filter((_, index) => commands[index]!.trim() === 'postgres');
}

export type ProcessMonitor = {
  /** Starts a new measurement window (a scenario). */
  mark(): Promise<void>;
  /** Ends the window: the maxima of the samples taken since `mark()` and the average CPU. */
  collect(): Promise<ScenarioResources>;
  stop(): void;
};

/**
 * `serverPid`: the HTTP server under test (the gateway, or the baseline server). `postgresParentPid`: the
 * process whose `postgres` descendants are the embedded cluster; undefined with an external server, which
 * is not sampled (it may serve others and may not even run on this machine).
 */
export function createProcessMonitor(options: {
  serverPid: number;
  postgresParentPid: number | undefined;
  intervalMs?: number;
}): ProcessMonitor {
  const { serverPid: gatewayPid, postgresParentPid } = options;
  const trackPostgres = postgresParentPid !== undefined;
  let samples: MemorySample[] = [];
  let window = { at: 0, gatewayTicks: 0, postgresTicks: 0, bench: process.cpuUsage() };
  let stopped = false;
  let sampling: Promise<void> = Promise.resolve();

  async function cpuTicks() {
    const gateway = (await readStat(gatewayPid))?.ticks ?? 0;
    const postgres = trackPostgres
      ? (await findPostgresDescendants(postgresParentPid!)).reduce((sum, child) => sum + child.ticks, 0)
      : 0;
    return { gateway, postgres };
  }

  async function sample() {
    const gateway = await readStatus(gatewayPid);
    if (!gateway) return;
    let sum = 0;
    let anon = 0;
    let shmem = 0;
    let count = 0;
    if (trackPostgres) {
      for (const child of await findPostgresDescendants(postgresParentPid!)) {
        const status = await readStatus(child.pid);
        if (!status) continue;
        count += 1;
        sum += status.rssKb;
        anon += status.anonKb;
        shmem = Math.max(shmem, status.shmemKb);
      }
    }
    samples.push({
      gatewayRssMb: gateway.rssKb / 1024,
      postgresRssSumMb: sum / 1024,
      postgresFootprintMb: (anon + shmem) / 1024,
      postgresProcesses: count,
    });
  }

  const timer = setInterval(() => {
    if (stopped) return;
    sampling = sampling.then(sample, () => {});
  }, options.intervalMs ?? 500);

  return {
    async mark() {
      await sampling;
      samples = [];
      const ticks = await cpuTicks();
      window = { at: performance.now(), gatewayTicks: ticks.gateway, postgresTicks: ticks.postgres, bench: process.cpuUsage() };
      await sample();
    },
    async collect() {
      await sampling;
      await sample();
      const seconds = (performance.now() - window.at) / 1000;
      const ticks = await cpuTicks();
      const bench = process.cpuUsage(window.bench);
      const percent = (ticks: number) => Math.round(((ticks / CLOCK_TICKS_PER_SECOND) / seconds) * 100);
      const max = (pick: (sample: MemorySample) => number) => Math.round(Math.max(0, ...samples.map(pick)));
      return {
        samples: samples.length,
        gateway_rss_max_mb: max((s) => s.gatewayRssMb),
        postgres_rss_sum_max_mb: trackPostgres ? max((s) => s.postgresRssSumMb) : null,
        postgres_footprint_max_mb: trackPostgres ? max((s) => s.postgresFootprintMb) : null,
        postgres_processes_max: trackPostgres ? max((s) => s.postgresProcesses) : null,
        gateway_cpu_percent: percent(ticks.gateway - window.gatewayTicks),
        postgres_cpu_percent: trackPostgres ? percent(ticks.postgres - window.postgresTicks) : null,
        bench_cpu_percent: Math.round(((bench.user + bench.system) / 1e6 / seconds) * 100),
      };
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
