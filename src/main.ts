import pino from 'pino';
import { buildApp } from './app.ts';
import { bootstrap } from './bootstrap.ts';
import type { Config } from './config.ts';
import { startMetricsListener } from './metrics/index.ts';
import { ensureDemoMerchant } from './modules/merchants/demo-merchant.ts';
import { ensureDemoDashboardUser } from './modules/users/demo-user.ts';
import { startWorkers } from './workers/workers.ts';

/**
 * `kassa serve`: open the database (embedded by default), apply migrations, build the app, listen, start
 * the background workers, and on SIGTERM / SIGINT stop gracefully — no new connections, in-flight requests
 * finish (bounded by KASSA_SHUTDOWN_GRACE_MS), workers stop, the database closes last.
 */

/** Start-up and lifecycle messages: `[kassa] …` lines for a person, JSON lines (pino) in production. */
export type LifecycleLogger = {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
};

export function createLifecycleLogger(
  config: Pick<Config, 'environment' | 'logLevel'>,
  stream: NodeJS.WritableStream = process.stdout,
): LifecycleLogger {
  if (config.environment === 'production') {
    // Same shape as the request logs (pino through Fastify), so one log pipeline parses everything.
    const log = pino({ level: config.logLevel }, stream as pino.DestinationStream);
    return {
      info: (message, fields = {}) => log.info(fields, message),
      warn: (message, fields = {}) => log.warn(fields, message),
      error: (message, fields = {}) => log.error(fields, message),
    };
  }
  const line = (prefix: string) => (message: string, fields?: Record<string, unknown>) => {
    const error = fields?.err instanceof Error ? `: ${fields.err.stack ?? fields.err.message}` : '';
    // Errors go to stderr when the lines go to the terminal, as console.error did.
    const target = prefix === 'error: ' && stream === process.stdout ? process.stderr : stream;
    target.write(`[kassa] ${prefix}${message}${error}\n`);
  };
  return { info: line(''), warn: line('warning: '), error: line('error: ') };
}

export async function serve(
  config: Config,
  options: { stream?: NodeJS.WritableStream } = {},
): Promise<{ close(): Promise<void>; url: string; log: LifecycleLogger }> {
  const log = createLifecycleLogger(config, options.stream);
  const { services, database } = await bootstrap(config, log);
  const app = await buildApp(services, options.stream ? { logStream: options.stream } : {});
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
  let metricsListener: Awaited<ReturnType<typeof startMetricsListener>> | undefined;
  if (config.metricsPort !== undefined) {
    try {
      metricsListener = await startMetricsListener({
        metrics: services.metrics,
        host: config.host,
        port: config.metricsPort,
        token: config.metricsToken,
      });
    } catch (error) {
      await app.close().catch(() => {});
      await database.close().catch(() => {});
      throw error;
    }
  }
  const workers = config.runWorkers ? startWorkers(services, app.log) : undefined;

  const localUrl = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  const demo =
    config.environment !== 'production' ? await ensureDemoMerchant(services.db, config.dataDir) : undefined;
  const demoLogin = demo
    ? await ensureDemoDashboardUser(services.db, config.dataDir, demo.merchantId, services.clock.now())
    : undefined;
  if (demo?.credentials) {
    // The demo shop at /demo pays with this merchant's secret API key, like a separate shop would.
    services.demoShop.use(demo.credentials);
  }
  if (config.environment === 'production') {
    // One structured line (never the demo credentials: production has no demo merchant).
    log.info('Kassa is running', {
      environment: config.environment,
      environment_source: config.environmentSource,
      public_url: config.publicUrl,
      listening: localUrl,
      database: database.description,
      metrics: {
        main_port: config.metricsToken !== undefined,
        port: metricsListener?.port ?? null,
      },
      demo_shop: config.demoShop,
      workers: config.runWorkers,
    });
  } else {
    printBanner({
      config,
      port,
      localUrl,
      database: database.description,
      metricsPort: metricsListener?.port,
      demo,
      demoLogin,
      write: (text) => (options.stream ?? process.stdout).write(`${text}\n`),
    });
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const deadline = setTimeout(() => {
        log.warn('shutdown grace period over; closing remaining connections');
        app.server.closeAllConnections();
      }, config.shutdownGraceMs);
      deadline.unref();
      await app.close(); // stops accepting, waits for in-flight requests
      await metricsListener?.close();
      await workers?.stop();
      clearTimeout(deadline);
      // The spans of the last requests and deliveries go out before the process ends.
      await services.tracer?.shutdown().catch(() => {});
      await database.close();
    })();
    return closing;
  };
  return { close, url: localUrl, log };
}

/**
 * The development banner: where Kassa listens and the demo merchant's credentials. Per-request log lines
 * are at `debug` in development (src/metrics/request-log.ts), so it stays on the screen.
 */
function printBanner(input: {
  config: Config;
  port: number;
  localUrl: string;
  database: string;
  metricsPort: number | undefined;
  demo: Awaited<ReturnType<typeof ensureDemoMerchant>> | undefined;
  demoLogin: Awaited<ReturnType<typeof ensureDemoDashboardUser>> | undefined;
  write(text: string): void;
}) {
  const { config, port, localUrl, demo, write } = input;
  write(`\n  Kassa is running (${config.environment})`);
  write(`  Mode:       ${config.environment}  (from ${config.environmentSource})`);
  write(
    `  Base URL:   ${config.publicUrl}${config.publicUrl.endsWith(`:${port}`) ? '' : `  (listening on ${localUrl})`}`,
  );
  write(`  API docs:   ${config.publicUrl}/docs   (OpenAPI: ${config.publicUrl}/openapi.json)`);
  write(`  Database:   ${input.database}`);
  if (input.metricsPort !== undefined)
    write(`  Metrics:    http://${config.host}:${input.metricsPort}/metrics`);
  else if (config.metricsToken !== undefined)
    write(`  Metrics:    ${config.publicUrl}/metrics   (Authorization: Bearer $KASSA_METRICS_TOKEN)`);
  if (config.demoShop)
    write(
      `  Demo shop:  ${config.publicUrl}/demo   (a shop that pays through the API; KASSA_DEMO=false hides it)`,
    );
  if (demo) {
    write(`\n  Demo merchant (test mode): ${demo.merchantId}${demo.created ? ' — created now' : ''}`);
    // The demo's dashboard login (src/modules/users/demo-user.ts), an owner of the demo merchant.
    if (input.demoLogin?.password)
      write(
        `    Dashboard:     ${config.publicUrl}/dashboard   Email: ${input.demoLogin.email}   Password: ${input.demoLogin.password}`,
      );
    if (demo.credentials) {
      write(`    client_id:     ${demo.credentials.clientId}`);
      write(`    client_secret: ${demo.credentials.clientSecret}`);
      write(`    API key:       ${demo.credentials.apiKey}`);
      write(
        `\n  Try it:\n    curl -s ${config.publicUrl}/v1/oauth/tokens -H 'content-type: application/json' \\`,
      );
      write(
        `      -d '{"grant_type":"client_credentials","client_id":"${demo.credentials.clientId}","client_secret":"${demo.credentials.clientSecret}"}'`,
      );
    } else {
      write(
        '    (its secrets were shown when it was created; make new ones with `npx kassa merchant create`)',
      );
      if (config.demoShop)
        write(`    (the demo shop needs its API key, kept in ${config.dataDir}/demo-credentials.json)`);
    }
  }
  write(`  Request log lines are at debug level here: KASSA_LOG_LEVEL=debug shows them.\n`);
}

/**
 * SIGTERM / SIGINT handling for `kassa serve`, installed BEFORE the gateway starts: a signal that arrives while
 * it is starting (a process manager stopping a fresh instance; the server may already answer /healthz while
 * the demo merchant is being prepared) must not kill the process with Node's default action, which would
 * leave the embedded PostgreSQL running without its owner. Such a signal is remembered and the gateway stops
 * as soon as its start has finished. A second signal exits at once.
 */
type Running = { close(): Promise<void>; log?: LifecycleLogger };

export function closeOnSignals(): { attach(server: Running): void } {
  let server: Running | undefined;
  let signalled = false;
  // Until the gateway has started (and knows its environment), lifecycle lines are plain `[kassa]` lines.
  const plain = createLifecycleLogger({ environment: 'development', logLevel: 'info' });
  const log = () => server?.log ?? plain;
  const stop = (running: Running) =>
    running.close().then(
      () => {
        log().info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log().error('error while stopping', { err: error });
        process.exit(1);
      },
    );
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log().info(`${signal} again: exiting now`, { signal });
      process.exit(1);
    }
    signalled = true;
    if (!server) {
      log().info(`${signal} received while starting: stopping as soon as the start has finished`, { signal });
      return;
    }
    log().info(`${signal} received: finishing in-flight requests, then stopping`, { signal });
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
