/**
 * The developer commands against a gateway serving on 127.0.0.1: `kassa listen` (a child process) forwarding
 * signed events to a real loopback receiver, `kassa trigger` producing events through the sandbox flows,
 * `kassa events tail` (a child process) and `kassa payments get`. Signatures are checked with the reference
 * `standardwebhooks` library.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dispatch } from '../../../src/cli/dispatch.ts';
import { CommandError, UsageError } from '../../../src/cli/errors.ts';
import { TRIGGER_TYPES } from '../../../src/cli/trigger-types.ts';
import { EVENT_TYPES } from '../../../src/modules/events/event.types.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { startWebhookReceiver, verifyWebhook, type WebhookReceiver } from '../webhooks/webhook-receiver.ts';

const KASSA_BIN = fileURLToPath(new URL('../../../bin/kassa.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let t: TestApp;
let merchant: TestMerchant;
let receiver: WebhookReceiver;

beforeAll(async () => {
  t = await createTestApp({ listen: true });
  merchant = await t.createMerchant({ cardData: false });
  receiver = await startWebhookReceiver(() => ({ status: 204 }));
});
afterAll(async () => {
  await receiver?.close();
  await t?.close();
});

/** Runs a `kassa` command in this process, returning what it printed on stdout. */
async function run(args: string[]): Promise<string> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await dispatch([...args, '--gateway', t.baseUrl, '--api-key', merchant.apiKey]);
  } finally {
    spy.mockRestore();
  }
  return written.join('');
}

type Child = { process: ChildProcessWithoutNullStreams; stdout: () => string; stderr: () => string };

function start(args: string[]): Child {
  const child = spawn(process.execPath, [KASSA_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, KASSA_API_KEY: merchant.apiKey, KASSA_GATEWAY_URL: t.baseUrl },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  return { process: child, stdout: () => stdout, stderr: () => stderr };
}

async function until(check: () => boolean, what: () => string, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(child: Child): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.process.on('close', (code) => resolve(code)));
  child.process.kill('SIGINT');
  return exited;
}

async function eventsOf(type: string) {
  const response = await t.app.inject({ url: `/v1/events?type=${type}`, headers: merchant.headers });
  return (response.json() as { data: { id: string; checkout_id: string; data: Record<string, unknown> }[] })
    .data;
}

describe('kassa listen', () => {
  it('forwards each event, signed with the secret it prints, and prints every attempt', async () => {
    const listen = start([
      'listen',
      '--forward-to',
      `${receiver.url}/webhooks`,
      '--events',
      'payment.succeeded',
    ]);
    try {
      await until(
        () => /Your webhook signing secret is (whsec_\S+)/.test(listen.stdout()),
        () => listen.stdout() + listen.stderr(),
      );
      const secret = /Your webhook signing secret is (whsec_\S+)/.exec(listen.stdout())![1]!;

      const printed = await run(['trigger', 'payment.succeeded']);
      expect(printed).toMatch(/^payment\.succeeded: checkout chk_\w+, .* event evt_\w+/);
      await receiver.waitFor((received) => received.some((r) => r.path === '/webhooks'), 20_000);

      const [webhook] = receiver.received.filter((r) => r.path === '/webhooks');
      const body = verifyWebhook(secret, webhook!) as {
        type: string;
        data: { status: string };
        [key: string]: unknown;
      };
      expect(body.type).toBe('payment.succeeded');
      expect(body.data.status).toBe('SUCCEEDED');
      const [event] = await eventsOf('payment.succeeded');
      expect(webhook!.headers['webhook-id']).toBe(event!.id);
      // The body Kassa's own deliveries carry: the event object without pending_webhooks, plus timestamp.
      expect(body).toMatchObject({ id: event!.id, object: 'event', timestamp: body.created_at });
      expect(body).not.toHaveProperty('pending_webhooks');
      expect(() => verifyWebhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, webhook!)).toThrow();

      await until(
        () => listen.stdout().includes(`payment.succeeded [${event!.id}]`),
        () => listen.stdout(),
      );
      expect(listen.stdout()).toMatch(
        new RegExp(
          `\\d{4}-\\d\\d-\\d\\dT\\S+Z {2}--> payment\\.succeeded \\[${event!.id}\\] {2}<-- \\[204\\] POST .* \\(\\d+ ms\\)`,
        ),
      );
      // --events: nothing else (checkout.completed, order.updated, …) was forwarded.
      expect(receiver.received.filter((r) => r.path === '/webhooks')).toHaveLength(1);
    } finally {
      expect(await stop(listen)).toBe(0);
    }
    expect(listen.stderr()).not.toMatch(/\n\s+at /);
  });

  it('refuses a bad --forward-to or a missing key in one line', async () => {
    await expect(run(['listen', '--forward-to', 'localhost:4000'])).rejects.toThrow(CommandError);
    await expect(dispatch(['listen', '--forward-to', 'http://127.0.0.1:1/x'])).rejects.toThrow(/API key/);
    await expect(dispatch(['listen'])).rejects.toThrow(UsageError);
  });
});

describe('kassa trigger', () => {
  it('lists the types it can produce, each one a real event type', async () => {
    const help = await run(['trigger', '--help']);
    for (const type of TRIGGER_TYPES) {
      expect(help).toContain(type);
      expect(EVENT_TYPES).toContain(type);
    }
    await expect(run(['trigger', 'ping'])).rejects.toThrow(UsageError);
  });

  it('payment.rejected: a payment declined on the payment page', async () => {
    const printed = await run(['trigger', 'payment.rejected']);
    const eventId = /event (evt_\w+)/.exec(printed)![1]!;
    const [event] = await eventsOf('payment.rejected');
    expect(event!.id).toBe(eventId);
    expect(event!.data.status).toBe('REJECTED');
  });

  it('refund.succeeded: a paid payment refunded in full', async () => {
    const printed = await run(['trigger', 'refund.succeeded']);
    const [event] = await eventsOf('refund.succeeded');
    expect(printed).toContain(event!.id);
    const paymentId = String(event!.data.payment_id);
    const payment = await t.app.inject({ url: `/v1/payments/${paymentId}`, headers: merchant.headers });
    expect((payment.json() as { refunded_amount: number }).refunded_amount).toBe(2500);
  });

  it('checkout.expired, checkout.canceled and payment.captured', async () => {
    for (const type of ['checkout.expired', 'checkout.canceled', 'payment.captured']) {
      const printed = await run(['trigger', type]);
      const [event] = await eventsOf(type);
      expect(printed, type).toContain(event!.id);
    }
  });
});

describe('kassa events tail and payments get', () => {
  it('tail prints the events as they happen', async () => {
    const tail = start(['events', 'tail']);
    try {
      await until(
        () => tail.stderr().includes('following events'),
        () => tail.stderr(),
      );
      await run(['trigger', 'checkout.created']);
      const [event] = await eventsOf('checkout.created');
      await until(
        () => tail.stdout().includes(event!.id),
        () => tail.stdout() + tail.stderr(),
      );
      expect(tail.stdout()).toMatch(
        new RegExp(`checkout\\.created\\s+${event!.id}\\s+${event!.checkout_id}`),
      );
    } finally {
      expect(await stop(tail)).toBe(0);
    }
  });

  it('payments get prints a payment as fields or JSON, and a missing one in one line', async () => {
    const [event] = await eventsOf('payment.succeeded');
    const paymentId = String(event!.data.id);
    const table = await run(['payments', 'get', paymentId]);
    expect(table).toMatch(new RegExp(`^id\\s+${paymentId}$`, 'm'));
    expect(table).toMatch(/^status\s+SUCCEEDED$/m);
    const json = JSON.parse(await run(['payments', 'get', paymentId, '--json'])) as { id: string };
    expect(json.id).toBe(paymentId);
    await expect(run(['payments', 'get', 'pay_00000000000000000000000000000000'])).rejects.toThrow(
      /404 not_found/,
    );
  });
});
