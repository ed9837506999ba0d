import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'undici';
import { createPool, requestJson } from '../load-generator.ts';
import { createMerchant, startGateway } from '../processes.ts';
import { CHECKOUT_BODY, paymentRequestBody } from '../requests.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../webhook-receiver.ts';

/**
 * The real gateway (`node bin/kassa.js serve`, which applies the migrations) on a database of your choice, with
 * one merchant, its access token, a local webhook receiver and an endpoint subscribed to `payment.succeeded`:
 * what `npm run bench`'s full_payment scenario sets up. `payment()` is that scenario's unit of work (create a
 * checkout, pay it with a test card); `pay()` also waits for the webhook and for the worker to record it.
 */

export type GatewaySession = {
  merchantId: string;
  receiver: WebhookReceiver;
  /** Create a checkout and pay it, through `pool` (default: the session's own). */
  payment(pool?: Pool): Promise<void>;
  /** `payment()`, then wait for its webhook and for the worker to record the attempt. */
  pay(): Promise<void>;
  origin: string;
  /** The gateway process. */
  pid: number;
  close(): Promise<void>;
};

/** `dataDir`: the gateway's KASSA_DATA_DIR (its master key) to reuse, kept on close; default a new one, removed. */
export async function openGatewaySession(databaseUrl: string, reuse?: string): Promise<GatewaySession> {
  const dataDir = reuse ?? (await mkdtemp(path.join(os.tmpdir(), 'kassa-floor-')));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATABASE_URL: databaseUrl,
    KASSA_DATA_DIR: dataDir,
    KASSA_LOG_LEVEL: 'warn',
    KASSA_ENV: 'development',
  };
  const gateway = await startGateway({ env });
  const receiver = await startWebhookReceiver();
  const pool = createPool(gateway.origin, 2);
  const close = async () => {
    await pool.close();
    await receiver.close();
    await gateway.stop();
    if (!reuse) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const merchant = await createMerchant({ ...env, KASSA_PUBLIC_URL: gateway.origin });
    const { json: token } = await requestJson<{ access_token: string }>(
      pool,
      {
        method: 'POST',
        path: '/v1/oauth/tokens',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: merchant.client_id,
          client_secret: merchant.client_secret,
        }),
      },
      [200],
    );
    let sequence = 0;
    const headers = () => ({
      authorization: `Bearer ${token.access_token}`,
      'content-type': 'application/json',
      'idempotency-key': `floor-${process.pid}-${sequence++}`,
    });
    await requestJson(
      pool,
      {
        method: 'POST',
        path: '/v1/webhook-endpoints',
        headers: headers(),
        body: JSON.stringify({ url: `${receiver.url}/hook`, enabled_events: ['payment.succeeded'] }),
      },
      [201],
    );
    const payment = async (via: Pool = pool) => {
      const checkout = await requestJson<{ checkout_id: string }>(
        via,
        { method: 'POST', path: '/v1/checkouts', headers: headers(), body: CHECKOUT_BODY },
        [201],
      );
      await requestJson(
        via,
        {
          method: 'POST',
          path: '/v1/payments',
          headers: headers(),
          body: paymentRequestBody(checkout.json.checkout_id),
        },
        [200, 201],
      );
    };
    const pay = async () => {
      const before = (await receiver.counts()).total;
      await payment();
      const after = await receiver.waitFor((counts) => counts.total > before, 10_000);
      if (after.total <= before) throw new Error('the webhook did not arrive within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 300)); // the worker records the attempt after the answer
    };
    return {
      merchantId: merchant.merchant_id,
      receiver,
      payment,
      pay,
      origin: gateway.origin,
      pid: gateway.pid,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
