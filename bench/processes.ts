import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findFreePort } from '../src/db/embedded.ts';

/**
 * The processes the benchmark starts: the real gateway (`node bin/kassa.js serve`, exactly what `npm start`
 * runs), the `kassa merchant create` command, and the baseline server. Every wait is bounded.
 */

const KASSA_BIN = fileURLToPath(new URL('../bin/kassa.js', import.meta.url));

/**
 * The flags `npm start` gives node before `bin/kassa.js` (package.json, scripts.start), so the benchmark
 * measures exactly what `npm start` runs.
 */
export function startScriptNodeFlags(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    scripts: { start: string };
  };
  const flags = /\bnode ((?:--\S+ )*)bin\/kassa\.js serve\b/.exec(manifest.scripts.start);
  if (!flags)
    throw new Error(`package.json's start script does not run bin/kassa.js serve: ${manifest.scripts.start}`);
  return flags[1]!.split(' ').filter(Boolean);
}
const BASELINE_SERVER = fileURLToPath(new URL('./baseline-server.ts', import.meta.url));
const run = promisify(execFile);

export type ServerProcess = {
  child: ChildProcess;
  pid: number;
  port: number;
  origin: string;
  output(): string;
  /** SIGTERM (graceful: a CPU profile is written on a clean exit), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
};

function trackOutput(child: ChildProcess) {
  let output = '';
  const append = (chunk: unknown) => {
    output += String(chunk);
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => output;
}

function stopper(child: ChildProcess, exited: Promise<unknown>) {
  return async (graceMs = 30_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([exited, killed]);
    clearTimeout(timer);
    await exited;
  };
}

export async function startGateway(options: {
  env: Record<string, string>;
  nodeArgs?: string[];
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const port = await findFreePort();
  const origin = `http://127.0.0.1:${port}`;
  const nodeArgs = [...startScriptNodeFlags(), ...(options.nodeArgs ?? [])];
  const child = spawn(process.execPath, [...nodeArgs, KASSA_BIN, 'serve'], {
    env: { ...options.env, PORT: String(port), HOST: '127.0.0.1', KASSA_PUBLIC_URL: origin },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = trackOutput(child);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  while (Date.now() < deadline && !hasExited) {
    const healthy = await fetch(`${origin}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return { child, pid: child.pid!, port, origin, output, stop: stopper(child, exited) };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`the gateway did not become healthy:\n${output().slice(-4000)}`);
}

export type BenchMerchant = {
  merchant_id: string;
  client_id: string;
  client_secret: string;
  api_key: string;
};

/**
 * `kassa merchant create --name Bench --card-data --json` with the gateway's environment (joins its database);
 * `--card-data` because scenarios pay through the Processor API with test cards.
 */
export async function createMerchant(env: Record<string, string>): Promise<BenchMerchant> {
  const { stdout } = await run(
    process.execPath,
    [KASSA_BIN, 'merchant', 'create', '--name', 'Bench', '--card-data', '--json'],
    {
      env,
      timeout: 60_000,
    },
  );
  return JSON.parse(stdout) as BenchMerchant;
}

export async function startBaselineServer(env: {
  BASELINE_DATABASE_URL: string;
  BASELINE_POOL_MAX: string;
  BASELINE_PUBLIC_KEY_PEM: string;
  BASELINE_ISSUER: string;
  BASELINE_AUDIENCE: string;
  /** The gateway's data dir and public URL: the floors (bench/floor-routes.ts) use its master key. */
  BASELINE_KASSA_DATA_DIR?: string;
  BASELINE_KASSA_PUBLIC_URL?: string;
}): Promise<ServerProcess> {
  const port = await findFreePort();
  const child = spawn(process.execPath, ['--import', 'tsx', BASELINE_SERVER], {
    env: { ...process.env, ...env, BASELINE_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = trackOutput(child);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 60_000);
    const check = () => {
      if (/listening \d+/.test(output())) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    child.stdout?.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`the baseline server did not start:\n${output().slice(-4000)}`);
  }
  return {
    child,
    pid: child.pid!,
    port,
    origin: `http://127.0.0.1:${port}`,
    output,
    stop: stopper(child, exited),
  };
}
