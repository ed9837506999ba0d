import { buildApp } from './app.ts';
import { bootstrap } from './bootstrap.ts';
import type { Config } from './config.ts';
import { ensureDemoMerchant } from './modules/merchants/demo-merchant.ts';
import { startWorkers } from './workers/workers.ts';

/**
 * `kassa serve`: open the database (embedded by default), apply migrations, build the app, listen, start
 * the background workers, and on SIGTERM / SIGINT stop gracefully — no new connections, in-flight requests
 * finish (bounded by KASSA_SHUTDOWN_GRACE_MS), workers stop, the database closes last.
 */

const startupLogger = {
  info: (message: string) => console.log(`[kassa] ${message}`),
  warn: (message: string) => console.log(`[kassa] warning: ${message}`),
};

export async function serve(config: Config): Promise<{ close(): Promise<void>; url: string }> {
  const { services, database } = await bootstrap(config, startupLogger);
  const app = await buildApp(services);
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // A busy port (or a HOST that is not local): nothing else has started, so release the database (stopping
    // the embedded server this process started) and let the caller report the error.
    await app.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const workers = config.runWorkers ? startWorkers(services, app.log) : undefined;

  const localUrl = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  console.log(`\n  Kassa is running (${config.environment})`);
  console.log(
    `  Base URL:   ${config.publicUrl}${config.publicUrl.endsWith(`:${port}`) ? '' : `  (listening on ${localUrl})`}`,
  );
  console.log(`  API docs:   ${config.publicUrl}/docs   (OpenAPI: ${config.publicUrl}/openapi.json)`);
  console.log(`  Database:   ${database.description}`);
  if (config.demoShop)
    console.log(
      `  Demo shop:  ${config.publicUrl}/demo   (a shop that pays through the API; KASSA_DEMO=false hides it)`,
    );
  if (config.environment !== 'production') {
    const demo = await ensureDemoMerchant(services.db, config.dataDir);
    console.log(`\n  Demo merchant (test mode): ${demo.merchantId}${demo.created ? ' — created now' : ''}`);
    if (demo.credentials) {
      // The demo shop at /demo pays with this merchant's secret API key, like a separate shop would.
      services.demoShop.use(demo.credentials);
      console.log(`    client_id:     ${demo.credentials.clientId}`);
      console.log(`    client_secret: ${demo.credentials.clientSecret}`);
      console.log(`    API key:       ${demo.credentials.apiKey}`);
      console.log(
        `\n  Try it:\n    curl -s ${config.publicUrl}/v1/oauth/tokens -H 'content-type: application/json' \\`,
      );
      console.log(
        `      -d '{"grant_type":"client_credentials","client_id":"${demo.credentials.clientId}","client_secret":"${demo.credentials.clientSecret}"}'`,
      );
    } else {
      console.log(
        '    (its secrets were shown when it was created; make new ones with `npx kassa merchant create`)',
      );
      if (config.demoShop)
        console.log(`    (the demo shop needs its API key, kept in ${config.dataDir}/demo-credentials.json)`);
    }
  }
  console.log('');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const deadline = setTimeout(() => {
        app.log.warn('shutdown grace period over; closing remaining connections');
        app.server.closeAllConnections();
      }, config.shutdownGraceMs);
      deadline.unref();
      await app.close(); // stops accepting, waits for in-flight requests
      await workers?.stop();
      clearTimeout(deadline);
      await database.close();
    })();
    return closing;
  };
  return { close, url: localUrl };
}

/**
 * SIGTERM / SIGINT handling for `kassa serve`, installed BEFORE the gateway starts: a signal that arrives while
 * it is starting (a process manager stopping a fresh instance; the server may already answer /healthz while
 * the demo merchant is being prepared) must not kill the process with Node's default action, which would
 * leave the embedded PostgreSQL running without its owner. Such a signal is remembered and the gateway stops
 * as soon as its start has finished. A second signal exits at once.
 */
export function closeOnSignals(): { attach(server: { close(): Promise<void> }): void } {
  let server: { close(): Promise<void> } | undefined;
  let signalled = false;
  const stop = (running: { close(): Promise<void> }) =>
    running.close().then(
      () => {
        console.log('[kassa] stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('[kassa] error while stopping', error);
        process.exit(1);
      },
    );
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      console.log(`[kassa] ${signal} again: exiting now`);
      process.exit(1);
    }
    signalled = true;
    if (!server) {
      console.log(`[kassa] ${signal} received while starting: stopping as soon as the start has finished`);
      return;
    }
    console.log(`[kassa] ${signal} received: finishing in-flight requests, then stopping`);
    void stop(server);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    attach(started) {
      server = started;
      if (signalled) void stop(started);
    },
  };
}
