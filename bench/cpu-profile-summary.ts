import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function, self time per module
 * (an npm package, a file of ours, or Node's internals), and inclusive time of our own functions.
 * Self time is the sum of the sample intervals whose leaf frame is the function; inclusive time counts a
 * sample once for every distinct function on its stack.
 *
 *   node --import tsx bench/cpu-profile-summary.ts <file.cpuprofile> [top=25]
 */

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type CpuProfile = {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
};

export type ProfileRow = { name: string; ms: number; percent: number };
export type ProfileSummary = {
  total_ms: number;
  idle_ms: number;
  busy_ms: number;
  self_by_function: ProfileRow[];
  self_by_module: ProfileRow[];
  inclusive_own_code: ProfileRow[];
};

const ROOT = path.resolve(new URL('..', import.meta.url).pathname);

function shortUrl(url: string): string {
  const file = url.replace(/^file:\/\//, '');
  if (!file) return '';
  if (file.startsWith('node:')) return file;
  return path.relative(ROOT, file) || file;
}

/** The module a frame belongs to: `pkg:<npm package>`, a source file of ours, `node:internal`, or a V8 pseudo-frame. */
function moduleOf(frame: CallFrame): string {
  const url = shortUrl(frame.url);
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native / builtin)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg:${pkg[1]}`;
  if (url.startsWith('node:')) return 'node:internal';
  return url;
}

function functionKey(frame: CallFrame): string {
  const url = shortUrl(frame.url);
  const name = frame.functionName || '(anonymous)';
  return url ? `${name}  ${url}:${frame.lineNumber + 1}` : name;
}

/**
 * `window`: only samples taken in [fromMicros, toMicros] of the profile's clock — V8's monotonic clock,
 * which on Linux is CLOCK_MONOTONIC, the same as `process.hrtime` in any process — so start-up (module
 * loading, migrations) and warm-up stay out of the figures.
 */
export function summariseProfile(
  profile: CpuProfile,
  top = 25,
  window?: { fromMicros: number; toMicros: number },
): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const modules = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    at += micros;
    if (window && (at < window.fromMicros || at > window.toMicros)) return;
    const node = byId.get(id);
    if (!node) return;
    total += micros;
    if (node.callFrame.functionName === '(idle)') idle += micros;
    const key = functionKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + micros);
    const module = moduleOf(node.callFrame);
    modules.set(module, (modules.get(module) ?? 0) + micros);
    const seen = new Set<string>();
    for (let frameId: number | undefined = id; frameId !== undefined; frameId = parent.get(frameId)) {
      const frame = byId.get(frameId)!.callFrame;
      const url = shortUrl(frame.url);
      if (!url.startsWith('src/')) continue;
      const ownKey = functionKey(frame);
      if (seen.has(ownKey)) continue;
      seen.add(ownKey);
      inclusive.set(ownKey, (inclusive.get(ownKey) ?? 0) + micros);
    }
  });
  const busy = total - idle;
  const rows = (map: Map<string, number>) =>
    [...map]
      .filter(([name]) => name !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({
        name,
        ms: Math.round(micros / 1000),
        percent: Math.round((micros / Math.max(1, busy)) * 1000) / 10,
      }));
  return {
    total_ms: Math.round(total / 1000),
    idle_ms: Math.round(idle / 1000),
    busy_ms: Math.round(busy / 1000),
    self_by_function: rows(self),
    self_by_module: rows(modules),
    inclusive_own_code: rows(inclusive),
  };
}

export function formatProfileSummary(summary: ProfileSummary): string {
  const table = (title: string, rows: ProfileRow[]) =>
    [
      `### ${title}`,
      '',
      '| % of busy | ms | Function / module |',
      '|---:|---:|---|',
      ...rows.map(
        (row) => `| ${row.percent.toFixed(1)} | ${row.ms} | \`${row.name.replace(/\|/g, '\\|')}\` |`,
      ),
      '',
    ].join('\n');
  return [
    `Profile: ${summary.total_ms} ms sampled, ${summary.busy_ms} ms busy, ${summary.idle_ms} ms idle (percentages are of busy time).`,
    '',
    table('Self time by module', summary.self_by_module),
    table('Self time by function', summary.self_by_function),
    table('Inclusive time of our own functions (src/)', summary.inclusive_own_code),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node --import tsx bench/cpu-profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  console.log(formatProfileSummary(summariseProfile(profile, Number(process.argv[3] ?? 25))));
}
