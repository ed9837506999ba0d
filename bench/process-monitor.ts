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

export type MemorySample = {
  gatewayRssMb: number;
  postgresRssSumMb: number;
  postgresFootprintMb: number;
  postgresProcesses: number;
};

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
  /** The whole box (all processes, /proc/stat), and what is left after server + PostgreSQL + bench: other
   * work on the machine (another test run, the baseline server idling, the kernel's softirq) — noise. */
  box_cpu_percent: number;
  other_cpu_percent: number;
};

/** Busy ticks of the whole machine (every CPU) from the first line of /proc/stat. */
export async function readBoxBusyTicks(): Promise<number> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!;
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  } catch {
    return 0;
  }
}

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

/**
 * From /proc/<pid>/stat (the command name may contain spaces and parens): the parent pid, the process's own
 * CPU ticks, and the ticks of its children that have ended and been waited for (a PostgreSQL backend that
 * exits — pool idle timeout — is accounted in its postmaster's cutime/cstime, not lost).
 */
async function readStat(
  pid: number,
): Promise<{ ppid: number; ticks: number; reapedTicks: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
    return {
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
      reapedTicks: Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return undefined;
  }
}

/** The children of every thread of `pid` (Linux keeps them per thread in /proc/<pid>/task/<tid>/children). */
async function readChildren(pid: number): Promise<number[]> {
  let tasks: string[];
  try {
    tasks = await readdir(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const lists = await Promise.all(
    tasks.map((tid) => readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '')),
  );
  return lists.flatMap((list) => list.split(' ').filter(Boolean).map(Number));
}

/**
 * Descendants of `rootPid` whose command is `postgres` (not, e.g., a transpiler's helper process), with
 * their CPU ticks. Walks the children lists, so it reads a few dozen small files, not all of /proc.
 */
async function findPostgresDescendants(rootPid: number): Promise<{ pid: number; ticks: number }[]> {
  const found: { pid: number; ticks: number }[] = [];
  const frontier = [rootPid];
  while (frontier.length > 0) {
    const children = await readChildren(frontier.pop()!);
    await Promise.all(
      children.map(async (pid) => {
        frontier.push(pid);
        const [command, stat] = await Promise.all([
          readFile(`/proc/${pid}/comm`, 'utf8').catch(() => ''),
          readStat(pid),
        ]);
        if (command.trim() === 'postgres' && stat) found.push({ pid, ticks: stat.ticks + stat.reapedTicks });
      }),
    );
  }
  return found;
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
  let window = { at: 0, gatewayTicks: 0, postgresTicks: 0, boxTicks: 0, bench: process.cpuUsage() };
  let stopped = false;
  let sampling: Promise<void> = Promise.resolve();

  async function cpuTicks() {
    const gateway = (await readStat(gatewayPid))?.ticks ?? 0;
    const postgres = trackPostgres
      ? (await findPostgresDescendants(postgresParentPid!)).reduce((sum, child) => sum + child.ticks, 0)
      : 0;
    return { gateway, postgres, box: await readBoxBusyTicks() };
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

  // Samples only inside a window (between mark and collect), so an idle monitor costs nothing.
  let active = false;
  const timer = setInterval(() => {
    if (stopped || !active) return;
    sampling = sampling.then(sample, () => {});
  }, options.intervalMs ?? 500);

  return {
    async mark() {
      await sampling;
      samples = [];
      const ticks = await cpuTicks();
      window = {
        at: performance.now(),
        gatewayTicks: ticks.gateway,
        postgresTicks: ticks.postgres,
        boxTicks: ticks.box,
        bench: process.cpuUsage(),
      };
      active = true;
      await sample();
    },
    async collect() {
      active = false;
      await sampling;
      await sample();
      const seconds = (performance.now() - window.at) / 1000;
      const ticks = await cpuTicks();
      const bench = process.cpuUsage(window.bench);
      const percent = (ticks: number) => Math.round((ticks / CLOCK_TICKS_PER_SECOND / seconds) * 100);
      const gatewayCpu = percent(ticks.gateway - window.gatewayTicks);
      const postgresCpu = trackPostgres ? percent(ticks.postgres - window.postgresTicks) : null;
      const benchCpu = Math.round(((bench.user + bench.system) / 1e6 / seconds) * 100);
      const boxCpu = percent(ticks.box - window.boxTicks);
      const max = (pick: (sample: MemorySample) => number) => Math.round(Math.max(0, ...samples.map(pick)));
      return {
        samples: samples.length,
        gateway_rss_max_mb: max((s) => s.gatewayRssMb),
        postgres_rss_sum_max_mb: trackPostgres ? max((s) => s.postgresRssSumMb) : null,
        postgres_footprint_max_mb: trackPostgres ? max((s) => s.postgresFootprintMb) : null,
        postgres_processes_max: trackPostgres ? max((s) => s.postgresProcesses) : null,
        gateway_cpu_percent: gatewayCpu,
        postgres_cpu_percent: postgresCpu,
        bench_cpu_percent: benchCpu,
        box_cpu_percent: boxCpu,
        other_cpu_percent: Math.max(0, boxCpu - gatewayCpu - (postgresCpu ?? 0) - benchCpu),
      };
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** CPU the whole machine used over `ms`, in % of one core. */
export async function measureBoxCpu(ms: number): Promise<number> {
  const before = await readBoxBusyTicks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return Math.round((((await readBoxBusyTicks()) - before) / CLOCK_TICKS_PER_SECOND / (ms / 1000)) * 100);
}

/**
 * Waits (at most `maxWaitMs`) until the machine has been nearly idle for a few seconds, so that a run does
 * not start in the middle of someone else's test suite. Returns the last measurement.
 */
export async function waitForQuietBox(options: {
  maxWaitMs: number;
  thresholdPercent: number;
  log(message: string): void;
}) {
  const deadline = performance.now() + options.maxWaitMs;
  let busy = await measureBoxCpu(3000);
  while (busy > options.thresholdPercent && performance.now() < deadline) {
    options.log(
      `the machine is busy (${busy} % CPU of one core in use by other processes); waiting for it to calm down…`,
    );
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    busy = await measureBoxCpu(3000);
  }
  return { busyPercent: busy, quiet: busy <= options.thresholdPercent };
}
