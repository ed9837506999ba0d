import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../../fixtures/gateway-process.ts';

/**
 * `kassa serve` on its embedded PostgreSQL, as a newcomer runs it: first start initialises the data folder
 * and prints working demo credentials; a restart reuses everything; SIGKILL leaves an orphaned server that
 * the next start shuts down and recovers from; SIGTERM stops the gateway and its database cleanly.
 */
describe('the gateway process on its embedded PostgreSQL', () => {
  // DATABASE_URL cleared: this test is about the embedded server even when the suite runs on an external one.
  const env: Record<string, string> = { KASSA_ENV: 'development', DATABASE_URL: '' };
  let dataDir: string;
  let running: GatewayProcess | undefined;

  afterAll(async () => {
    running?.child.kill('SIGKILL');
    await running?.exited;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const credentialsFrom = (output: string) => ({
    clientId: /client_id:\s+(cli_\w+)/.exec(output)?.[1],
    clientSecret: /client_secret:\s+(\S+)/.exec(output)?.[1],
  });

  async function tokenWorks(baseUrl: string, clientId: string, clientSecret: string) {
    const token = await fetch(`${baseUrl}/v1/oauth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
      }),
    }).then((response) => response.json() as Promise<{ access_token: string }>);
    const me = await fetch(`${baseUrl}/v1/merchant`, {
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    return me.status === 200;
  }

  function postmasterPid(pgDir: string) {
    return readFile(path.join(pgDir, 'postmaster.pid'), 'utf8').then(
      (text) => Number.parseInt(text.split('\n')[0]!, 10),
      () => undefined,
    );
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('initialises on first start and prints demo credentials that work', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kassa-lifecycle-'));
    env.KASSA_DATA_DIR = dataDir;
    running = await startGatewayProcess(env, { timeoutMs: 90_000, waitForOutput: /client_secret:\s+\S+/ });
    const output = running.output();
    expect(output).toMatch(/initialising embedded PostgreSQL/);
    expect(output).toMatch(/API docs:\s+http:\/\/127\.0\.0\.1:\d+\/docs/);
    const { clientId, clientSecret } = credentialsFrom(output);
    expect(clientId && clientSecret).toBeTruthy();
    expect(await tokenWorks(running.baseUrl, clientId!, clientSecret!)).toBe(true);
    expect((await fetch(`${running.baseUrl}/readyz`)).status).toBe(200);
  });

  it('recovers after SIGKILL: the orphaned database server is shut down and the data is kept', async () => {
    const { clientId, clientSecret } = credentialsFrom(running!.output());
    const orphanPid = await postmasterPid(path.join(dataDir, 'pg'));
    expect(orphanPid).toBeDefined();
    running!.child.kill('SIGKILL');
    await running!.exited;
    expect(alive(orphanPid!)).toBe(true); // the server outlived its parent

    running = await startGatewayProcess(env, { timeoutMs: 90_000 });
    expect(running.output()).toMatch(/orphaned embedded PostgreSQL/);
    expect(running.output()).not.toMatch(/initialising embedded PostgreSQL/);
    expect(alive(orphanPid!)).toBe(false);
    // Same demo merchant, same secrets: nothing was re-created.
    expect(running.output()).not.toMatch(/created now/);
    expect(await tokenWorks(running.baseUrl, clientId!, clientSecret!)).toBe(true);
  });

  it('stops gracefully on SIGTERM, taking its database server with it', async () => {
    const serverPid = await postmasterPid(path.join(dataDir, 'pg'));
    running!.child.kill('SIGTERM');
    expect(await running!.exited).toBe(0);
    expect(running!.output()).toMatch(/stopped/);
    expect(alive(serverPid!)).toBe(false);
    expect(await postmasterPid(path.join(dataDir, 'pg'))).toBeUndefined();
    running = undefined;
  });

  it('stops cleanly on a SIGTERM that arrives while it is still starting (its database already up)', async () => {
    // Before the fix, the signal handlers came after the start (demo merchant included): a SIGTERM in between
    // killed the process by Node's default action and left its PostgreSQL running without an owner.
    const pgDir = path.join(dataDir, 'pg');
    const starting = await startGatewayProcess(env, {
      until: async () => (await postmasterPid(pgDir)) !== undefined,
    });
    const serverPid = await postmasterPid(pgDir);
    starting.child.kill('SIGTERM');
    const exitCode = await starting.exited;
    const seen = `the gateway exited with ${exitCode} and printed:\n${starting.output()}`;
    expect(exitCode, seen).toBe(0);
    expect(starting.output(), seen).toMatch(/\[kassa\] stopped/);
    expect(alive(serverPid!), seen).toBe(false);
    expect(await postmasterPid(pgDir)).toBeUndefined();
  }, 90_000);

  it('stops on a SIGTERM sent to `npm start` too: no gateway or database is left running', async () => {
    // A process manager signals the process it started; npm passes it to the script's shell, which must
    // hand it on (the script execs node) rather than die and leave the gateway behind.
    const viaNpm = await startGatewayProcess(env, { viaNpmStart: true });
    const gatewayPid = Number.parseInt(await readFile(path.join(dataDir, 'kassa-owner.pid'), 'utf8'), 10);
    const serverPid = await postmasterPid(path.join(dataDir, 'pg'));
    try {
      expect(alive(gatewayPid)).toBe(true);
      viaNpm.child.kill('SIGTERM');
      const exitCode = await viaNpm.exited;
      // A graceful stop ends with the database's own (fast) shutdown, a checkpoint on a busy CI disk included.
      const deadline = Date.now() + 30_000;
      while ((alive(gatewayPid) || alive(serverPid!)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const seen = `npm exited with ${exitCode}; the gateway printed:\n${viaNpm.output()}`;
      expect(exitCode, seen).toBe(0);
      expect(viaNpm.output(), seen).toMatch(/\[kassa\] stopped/);
      expect(alive(gatewayPid), seen).toBe(false);
      expect(alive(serverPid!), seen).toBe(false);
    } finally {
      // Should the signal not have reached the gateway, do not leave it (and its database) running.
      if (alive(gatewayPid)) process.kill(gatewayPid, 'SIGTERM');
      viaNpm.child.kill('SIGKILL');
    }
  }, 90_000);
});
