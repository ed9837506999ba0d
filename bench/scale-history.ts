import type pg from 'pg';
import { timeLedIdSql, type IdPrefix } from '../src/lib/ids.ts';

/**
 * The history `npm run bench -- --scale` loads before its scenarios (docs/performance.md, "Scale with data"):
 * months of orders with their checkouts, payments, captures, refunds, events and webhook deliveries, spread
 * over five merchants (the bench's own among them), plus a day's worth of checkouts still open.
 *
 * Everything is generated in SQL, set-based (`generate_series`, `INSERT … SELECT`), never row by row from
 * Node, on ONE session (the plan lives in temporary tables). Every constraint and trigger of the schema stays
 * on: foreign keys and CHECKs are enforced as the rows go in, and the events table's row trigger
 * (`events_enqueue_callback_notification`, which queues a callback notification for a payment outcome when the
 * checkout asked for one) fires for every payment outcome. No history checkout asks for a notification
 * callback, so the trigger finds nothing to queue — as in production for such checkouts — and nothing is
 * left for the callback worker to send anywhere.
 *
 * The rows are finished business: no delivery is pending, no payment is in flight, no open checkout reaches
 * its deadline within the hour, so the gateway's workers have nothing of the history to act on while the
 * scenarios run; the bench merchant's history endpoint was deleted just now, so the bench's own endpoints
 * are the only ones its new events go to. Timestamps stay inside the default retention windows.
 *
 * Not generated: webhook delivery attempts (the per-attempt log), idempotency records (their response bodies
 * are sealed per instance, and a placeholder would break a master-key rotation), payment links, callbacks.
 */

export type ScaleHistoryOptions = {
  /** 1 = the full size (≥ 100,000 orders, ≥ 50,000 open checkouts, ≥ 1,000,000 events and deliveries). */
  scale: number;
  /** The merchant the bench acts as: one of the five. */
  benchMerchantId: string;
  /**
   * A webhook secret sealed by this instance's keyring (purpose `webhook-secret-encryption`): the history
   * endpoints carry it, so a master-key rotation can re-seal them like any other.
   */
  webhookSecretEncrypted: Buffer;
  /** The moment the history ends at (default: now). */
  now?: Date;
  log?: (message: string) => void;
};

export type ScaleHistoryResult = {
  seconds: number;
  steps: { step: string; rows: number; seconds: number }[];
  counts: Record<string, number>;
};

/** The full size; `scale` multiplies it. */
export function scaleSizes(scale: number) {
  if (!(scale > 0 && scale <= 10)) throw new Error('the scale must be in (0, 10]');
  return {
    closedOrders: Math.max(20, Math.round(125_000 * scale)),
    openCheckouts: Math.max(20, Math.round(50_000 * scale)),
  };
}

export const SCALE_MERCHANTS = 5;

/**
 * What happened to an order, and how often (per 100 closed orders). Each kind's statuses are the ones the
 * state machines reach that way (docs/payments.md).
 */
const KINDS = `(VALUES
  -- kind, checkout status, order status, payment status, capture mode, checkout closed after (s), payment last changed after (s), order last changed after (s)
  ('paid',               'COMPLETED', 'PAID',               'SUCCEEDED', 'automatic', 91,    91,     91),
  ('partially_refunded', 'COMPLETED', 'PARTIALLY_REFUNDED', 'SUCCEEDED', 'automatic', 91,    172805, 172805),
  ('refunded',           'COMPLETED', 'REFUNDED',           'SUCCEEDED', 'automatic', 91,    172805, 172805),
  ('two_captures',       'COMPLETED', 'PAID',               'SUCCEEDED', 'manual',    90,    86400,  86400),
  ('authorized',         'COMPLETED', 'AUTHORIZED',         'AUTHORIZED','manual',    90,    90,     90),
  ('expired',            'EXPIRED',   'EXPIRED',            NULL,        'automatic', 86400, NULL,   86400),
  ('canceled',           'CANCELED',  'CANCELED',           NULL,        'automatic', 300,   NULL,   300),
  ('rejected',           'EXPIRED',   'EXPIRED',            'REJECTED',  'automatic', 86400, 90,     86400),
  ('open',               'OPEN',      'CREATED',            NULL,        'automatic', NULL,  NULL,   0),
  ('open_rejected',      'OPEN',      'CREATED',            'REJECTED',  'automatic', NULL,  60,     0)
) AS k (kind, checkout_status, order_status, payment_status, capture_mode, closed_after, payment_after, order_after)`;

/** Which kind a closed order is, from a bucket 0–99. */
const KIND_OF_BUCKET = `CASE WHEN b < 60 THEN 'paid' WHEN b < 68 THEN 'partially_refunded' WHEN b < 72 THEN 'refunded'
  WHEN b < 77 THEN 'two_captures' WHEN b < 80 THEN 'authorized' WHEN b < 92 THEN 'expired'
  WHEN b < 96 THEN 'canceled' ELSE 'rejected' END`;

/** The events each kind wrote, in order: what the services emit for that history (seconds after the checkout). */
const SCRIPT: [kinds: string[], type: string, object: string, after: number, status: string][] = [
  [['*'], 'checkout.created', 'checkout', 0, 'OPEN'],
  [['*'], 'order.created', 'order', 0, 'CREATED'],
  [['paid', 'partially_refunded', 'refunded'], 'payment.authorized', 'payment', 90, 'AUTHORIZED'],
  [['paid', 'partially_refunded', 'refunded'], 'payment.captured', 'payment', 91, 'SUCCEEDED'],
  [['paid', 'partially_refunded', 'refunded'], 'payment.succeeded', 'payment', 91, 'SUCCEEDED'],
  [['paid', 'partially_refunded', 'refunded'], 'order.updated', 'order', 91, 'AUTHORIZED'],
  [['paid', 'partially_refunded', 'refunded'], 'order.updated', 'order', 91, 'PAID'],
  [['paid', 'partially_refunded', 'refunded'], 'checkout.completed', 'checkout', 91, 'COMPLETED'],
  [['partially_refunded', 'refunded'], 'refund.created', 'refund', 172800, 'PENDING'],
  [['partially_refunded', 'refunded'], 'refund.succeeded', 'refund', 172805, 'SUCCEEDED'],
  [['partially_refunded'], 'order.updated', 'order', 172805, 'PARTIALLY_REFUNDED'],
  [['refunded'], 'order.updated', 'order', 172805, 'REFUNDED'],
  [['two_captures', 'authorized'], 'payment.authorized', 'payment', 90, 'AUTHORIZED'],
  [['two_captures', 'authorized'], 'order.updated', 'order', 90, 'AUTHORIZED'],
  [['two_captures', 'authorized'], 'checkout.completed', 'checkout', 90, 'COMPLETED'],
  [['two_captures'], 'payment.captured', 'payment', 3600, 'AUTHORIZED'],
  [['two_captures'], 'order.updated', 'order', 3600, 'AUTHORIZED'],
  [['two_captures'], 'payment.captured', 'payment', 86400, 'SUCCEEDED'],
  [['two_captures'], 'payment.succeeded', 'payment', 86400, 'SUCCEEDED'],
  [['two_captures'], 'order.updated', 'order', 86400, 'PAID'],
  [['expired'], 'checkout.expired', 'checkout', 86400, 'EXPIRED'],
  [['expired'], 'order.updated', 'order', 86400, 'EXPIRED'],
  [['canceled'], 'checkout.canceled', 'checkout', 300, 'CANCELED'],
  [['canceled'], 'order.updated', 'order', 300, 'CANCELED'],
  [['rejected'], 'payment.rejected', 'payment', 90, 'REJECTED'],
  [['rejected'], 'checkout.expired', 'checkout', 86400, 'EXPIRED'],
  [['rejected'], 'order.updated', 'order', 86400, 'EXPIRED'],
  [['open_rejected'], 'payment.rejected', 'payment', 60, 'REJECTED'],
];

const ALL_KINDS = [
  'paid',
  'partially_refunded',
  'refunded',
  'two_captures',
  'authorized',
  'expired',
  'canceled',
  'rejected',
  'open',
  'open_rejected',
];

/** The script as an SQL VALUES list (static text: no value comes from outside). */
function scriptValues(): string {
  const rows: string[] = [];
  for (const kind of ALL_KINDS) {
    let step = 0;
    for (const [kinds, type, object, after, status] of SCRIPT)
      if (kinds.includes('*') || kinds.includes(kind))
        rows.push(`('${kind}', ${(step += 1)}, '${type}', '${object}', ${after}, '${status}')`);
  }
  return `(VALUES ${rows.join(',\n  ')}) AS s (kind, step, type, object, after_s, status)`;
}

/** An id as the gateway makes them, led by the time `at` of its row; md5 of `seed` so the plan's steps agree. */
function timeLedId(prefix: IdPrefix, at: string, seed: string): string {
  return timeLedIdSql(prefix, at, `md5(${seed})`);
}

type Step = { step: string; sql: string; values?: unknown[]; optional?: boolean };

function steps(options: ScaleHistoryOptions): Step[] {
  const { closedOrders, openCheckouts } = scaleSizes(options.scale);
  const now = (options.now ?? new Date()).toISOString();
  const customersPerMerchant = Math.max(1, Math.round((closedOrders + openCheckouts) / 3 / SCALE_MERCHANTS));
  return [
    {
      step: 'plan: merchants',
      sql: `CREATE TEMP TABLE scale_merchants AS
        SELECT slot,
          CASE WHEN slot = 0 THEN $1::text ELSE 'mer_' || md5('scale-merchant-' || slot) END AS merchant_id,
          'whe_' || md5('scale-endpoint-' || slot) AS endpoint_id,
          ((ARRAY['MXN', 'EUR', 'USD', 'GBP', 'EUR'])[slot + 1])::char(3) AS currency,
          ((ARRAY['MX', 'ES', 'US', 'GB', 'DE'])[slot + 1])::char(2) AS country
        FROM generate_series(0, ${SCALE_MERCHANTS - 1}) AS slot`,
      values: [options.benchMerchantId],
    },
    {
      step: 'plan: orders',
      // Closed orders start over the last 80 days up to 3 days ago (oldest first; a refund comes 2 days later), then a day's open checkouts whose
      // deadline (24 h after creation) is 1–23 h away.
      sql: `CREATE TEMP TABLE scale_plan AS
        SELECT p.g, p.kind, m.merchant_id, m.endpoint_id, m.currency, m.country, p.t0,
          ${timeLedId('chk', 'p.t0', "'chk' || p.g")} AS checkout_id,
          ${timeLedId('ord', 'p.t0', "'ord' || p.g")} AS order_id,
          CASE WHEN k.payment_status IS NOT NULL THEN ${timeLedId('pay', 'p.t0', "'pay' || p.g")} END AS payment_id,
          CASE WHEN p.kind IN ('partially_refunded', 'refunded') THEN ${timeLedId('ref', 'p.t0', "'ref' || p.g")} END AS refund_id,
          ${timeLedId('cus', "$4::timestamptz - interval '81 days'", "'cus' || m.slot || '-' || abs(hashtext('c' || p.g)) % $3")} AS customer_id,
          (1000 + abs(hashtext('a' || p.g)) % 200000)::bigint AS total,
          k.checkout_status, k.order_status, k.payment_status, k.capture_mode,
          p.t0 + k.closed_after * interval '1 second' AS closed_at,
          p.t0 + k.payment_after * interval '1 second' AS payment_updated_at,
          p.t0 + k.order_after * interval '1 second' AS order_updated_at
        FROM (
          SELECT g,
            CASE WHEN g > $1 THEN CASE WHEN g % 20 = 0 THEN 'open_rejected' ELSE 'open' END
                 ELSE ${KIND_OF_BUCKET} END AS kind,
            CASE WHEN g > $1 THEN $4::timestamptz - interval '23 hours' + (g - $1 - 1) * (interval '22 hours' / $2::int)
                 ELSE $4::timestamptz - interval '80 days' + (g - 1) * (interval '77 days' / $1::int) END AS t0,
            abs(hashtext('m' || g)) % ${SCALE_MERCHANTS} AS slot
          FROM (SELECT g, abs(hashtext('k' || g)) % 100 AS b FROM generate_series(1, $1::int + $2::int) AS g) AS s
        ) AS p
        JOIN scale_merchants m ON m.slot = p.slot
        JOIN ${KINDS} ON k.kind = p.kind`,
      values: [closedOrders, openCheckouts, customersPerMerchant, now],
    },
    { step: 'plan: analyze', sql: 'ANALYZE scale_plan' },
    {
      step: 'merchants',
      sql: `INSERT INTO merchants (id, name, display_name, default_locale, api_version, card_data_permitted, created_at, updated_at)
        SELECT merchant_id, 'Scale history ' || slot, 'Shop ' || slot, 'EN', '2026-12-06', true,
               $1::timestamptz - interval '81 days', $1::timestamptz - interval '81 days'
          FROM scale_merchants WHERE slot > 0`,
      values: [now],
    },
    {
      step: 'webhook endpoints',
      sql: `INSERT INTO webhook_endpoints (id, merchant_id, livemode, url, description, enabled_events, status,
              secret_encrypted, api_version, created_at, updated_at, deleted_at)
        SELECT endpoint_id, merchant_id, false, 'https://hooks.shop-' || slot || '.example/kassa', 'shop backend',
               ARRAY['*'], 'enabled', $2, '2026-12-06', $1::timestamptz - interval '81 days',
               CASE WHEN slot = 0 THEN $1::timestamptz ELSE $1::timestamptz - interval '81 days' END,
               CASE WHEN slot = 0 THEN $1::timestamptz END
          FROM scale_merchants`,
      values: [now, options.webhookSecretEncrypted],
    },
    {
      step: 'customers',
      sql: `INSERT INTO customers (id, merchant_id, livemode, email, email_normalized, first_name, last_name, created_at, updated_at)
        SELECT ${timeLedId('cus', "$2::timestamptz - interval '81 days'", "'cus' || m.slot || '-' || c")}, m.merchant_id, false,
               'Shopper.' || m.slot || '.' || c || '@example.com', 'shopper.' || m.slot || '.' || c || '@example.com',
               'Shopper', 'No. ' || c, $2::timestamptz - interval '81 days', $2::timestamptz - interval '81 days'
          FROM scale_merchants m CROSS JOIN generate_series(0, $1::int - 1) AS c`,
      values: [customersPerMerchant, now],
    },
    {
      step: 'checkouts',
      sql: `INSERT INTO checkouts (id, merchant_id, livemode, status, completed_redirect_url, canceled_redirect_url,
              capture, locale, client_token_sha256, payment_started, active_payment_id, expires_at,
              completed_at, canceled_at, expired_at, created_at, updated_at, version)
        SELECT checkout_id, merchant_id, false, checkout_status, 'https://shop.example/complete',
               'https://shop.example/cancel', capture_mode, 'EN', sha256(convert_to('ct-' || checkout_id, 'UTF8')),
               payment_id IS NOT NULL, NULL, t0 + interval '24 hours',
               CASE WHEN checkout_status = 'COMPLETED' THEN closed_at END,
               CASE WHEN checkout_status = 'CANCELED' THEN closed_at END,
               CASE WHEN checkout_status = 'EXPIRED' THEN closed_at END,
               t0, greatest(t0, closed_at, CASE WHEN checkout_status = 'OPEN' THEN payment_updated_at END),
               1 + (checkout_status <> 'OPEN')::int + 2 * (payment_id IS NOT NULL)::int
          FROM scale_plan ORDER BY g`,
    },
    {
      step: 'orders',
      sql: `INSERT INTO orders (id, merchant_id, livemode, checkout_id, status, merchant_order_id, currency, country_code,
              subtotal_amount, total_amount, products, customer_id, authorized_amount, captured_amount,
              refunded_amount, created_at, updated_at, version)
        SELECT order_id, merchant_id, false, checkout_id, order_status, 'ORD-' || g, currency, country,
               total, total,
               jsonb_build_array(jsonb_build_object('id', 'sku-' || (g % 997), 'name', 'Product ' || (g % 997),
                 'quantity', 1, 'unit_price', total)),
               customer_id,
               CASE WHEN payment_status IN ('AUTHORIZED', 'SUCCEEDED') THEN total ELSE 0 END,
               CASE WHEN payment_status = 'SUCCEEDED' THEN total ELSE 0 END,
               CASE kind WHEN 'partially_refunded' THEN total / 2 WHEN 'refunded' THEN total ELSE 0 END,
               t0, order_updated_at,
               CASE kind WHEN 'open' THEN 1 WHEN 'open_rejected' THEN 1 WHEN 'paid' THEN 3
                 WHEN 'partially_refunded' THEN 4 WHEN 'refunded' THEN 4 WHEN 'two_captures' THEN 4 ELSE 2 END
          FROM scale_plan ORDER BY g`,
    },
    {
      step: 'payments',
      sql: `INSERT INTO payments (id, merchant_id, livemode, checkout_id, order_id, status, channel, method, amount,
              currency, capture_mode, authorized_amount, captured_amount, refunded_amount, connector_id,
              connector_reference, decline_code, failure_message, card_brand, card_last4, card_exp_month,
              card_exp_year, card_fingerprint, version, created_at, updated_at)
        SELECT payment_id, merchant_id, false, checkout_id, order_id, payment_status,
               CASE WHEN g % 2 = 0 THEN 'hosted_page' ELSE 'api' END, 'card', total, currency, capture_mode,
               CASE WHEN payment_status IN ('AUTHORIZED', 'SUCCEEDED') THEN total ELSE 0 END,
               CASE WHEN payment_status = 'SUCCEEDED' THEN total ELSE 0 END,
               CASE kind WHEN 'partially_refunded' THEN total / 2 WHEN 'refunded' THEN total ELSE 0 END,
               'sandbox', 'sbx_' || md5('sbx' || g),
               CASE WHEN payment_status = 'REJECTED' THEN 'card_declined' END,
               CASE WHEN payment_status = 'REJECTED' THEN 'The card was declined.' END,
               'visa', CASE WHEN payment_status = 'REJECTED' THEN '0002' ELSE '4242' END, 1 + g % 12,
               (2027 + g % 5)::smallint, md5('card' || (g % 50000)),
               CASE kind WHEN 'two_captures' THEN 4 WHEN 'partially_refunded' THEN 3 WHEN 'refunded' THEN 3 ELSE 2 END,
               t0 + CASE WHEN checkout_status = 'OPEN' THEN interval '58 seconds' ELSE interval '88 seconds' END,
               payment_updated_at
          FROM scale_plan WHERE payment_id IS NOT NULL ORDER BY g`,
    },
    {
      step: 'captures',
      sql: `INSERT INTO captures (id, payment_id, merchant_id, livemode, amount, status, connector_reference, created_at, updated_at)
        SELECT ${timeLedId('cap', 't0', "'cap' || g || '-' || n")}, payment_id, merchant_id, false,
               CASE WHEN kind <> 'two_captures' THEN total WHEN n = 1 THEN total / 2 ELSE total - total / 2 END,
               'SUCCEEDED', 'sbx_cap_' || md5('cap' || g || '-' || n),
               CASE WHEN kind <> 'two_captures' THEN t0 + interval '91 seconds'
                    WHEN n = 1 THEN t0 + interval '3600 seconds' ELSE t0 + interval '86400 seconds' END,
               CASE WHEN kind <> 'two_captures' THEN t0 + interval '91 seconds'
                    WHEN n = 1 THEN t0 + interval '3600 seconds' ELSE t0 + interval '86400 seconds' END
          FROM scale_plan CROSS JOIN LATERAL generate_series(1, CASE WHEN kind = 'two_captures' THEN 2 ELSE 1 END) AS n
         WHERE payment_status = 'SUCCEEDED' ORDER BY g, n`,
    },
    {
      step: 'refunds',
      sql: `INSERT INTO refunds (id, payment_id, merchant_id, livemode, amount, reason, status, connector_reference, created_at, updated_at)
        SELECT refund_id, payment_id, merchant_id, false, CASE kind WHEN 'refunded' THEN total ELSE total / 2 END,
               'requested_by_customer', 'SUCCEEDED', 'sbx_ref_' || md5('ref' || g),
               t0 + interval '172800 seconds', t0 + interval '172805 seconds'
          FROM scale_plan WHERE refund_id IS NOT NULL ORDER BY g`,
    },
    {
      step: 'plan: where the history events start',
      sql: 'CREATE TEMP TABLE scale_mark AS SELECT coalesce(max(seq), 0) AS seq FROM events',
    },
    {
      step: 'events',
      // Time order, so `seq` follows created_at as it does when the events are written live.
      sql: `INSERT INTO events (id, merchant_id, livemode, type, object_id, order_id, checkout_id, payment_id, data,
              created_at, fanout_state)
        SELECT ${timeLedId('evt', "p.t0 + s.after_s * interval '1 second'", "'evt' || p.g || '-' || s.step")}, p.merchant_id, false, s.type, o.object_id, p.order_id,
               p.checkout_id, CASE WHEN s.object IN ('payment', 'refund') THEN p.payment_id END,
               json_build_object('id', o.object_id, 'object', s.object, 'livemode', false, 'status', s.status,
                 'checkout_id', p.checkout_id, 'order_id', p.order_id,
                 'payment_id', CASE WHEN s.object IN ('payment', 'refund') THEN p.payment_id END,
                 'merchant_order_id', 'ORD-' || p.g, 'currency', p.currency,
                 'amount', CASE WHEN s.object = 'refund' AND p.kind = 'partially_refunded' THEN p.total / 2 ELSE p.total END,
                 'customer', json_build_object('email', 'shopper.' || p.g || '@example.com'),
                 'products', CASE WHEN s.object = 'order' THEN json_build_array(json_build_object('id', 'sku-' || (p.g % 997),
                   'name', 'Product ' || (p.g % 997), 'quantity', 1, 'unit_price', p.total)) END,
                 'created_at', p.t0, 'updated_at', p.t0 + s.after_s * interval '1 second'),
               p.t0 + s.after_s * interval '1 second', 'done'
          FROM scale_plan p
          JOIN ${scriptValues()} ON s.kind = p.kind
          CROSS JOIN LATERAL (SELECT CASE s.object WHEN 'checkout' THEN p.checkout_id WHEN 'order' THEN p.order_id
                                       WHEN 'payment' THEN p.payment_id ELSE p.refund_id END AS object_id) AS o
         ORDER BY p.t0 + s.after_s * interval '1 second', p.g, s.step`,
    },
    {
      step: 'webhook deliveries',
      // Each history event went to its merchant's endpoint (subscribed to '*', created before the history):
      // 95 % delivered at once, 3 % on the second attempt, 2 % failed after every retry.
      sql: `INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin, status,
              attempt_count, next_attempt_at, last_attempt_at, last_status_code, last_error, created_at, completed_at)
        SELECT ${timeLedId('del', 'e.created_at', "'del' || e.id")}, e.id, m.endpoint_id, e.merchant_id, false, 'event',
               CASE WHEN d.r < 98 THEN 'succeeded' ELSE 'failed' END,
               CASE WHEN d.r < 95 THEN 1 WHEN d.r < 98 THEN 2 ELSE 9 END,
               e.created_at, d.last_at, CASE WHEN d.r < 98 THEN 200 ELSE 503 END,
               CASE WHEN d.r >= 98 THEN 'HTTP 503' END, e.created_at, d.last_at
          FROM events e
          JOIN scale_merchants m ON m.merchant_id = e.merchant_id
          CROSS JOIN LATERAL (SELECT abs(hashtext(e.id)) % 100 AS r) AS h
          CROSS JOIN LATERAL (SELECT h.r,
              least($1::timestamptz - interval '1 minute', e.created_at + CASE WHEN h.r < 95 THEN interval '0.2 seconds'
                WHEN h.r < 98 THEN interval '60 seconds' ELSE interval '3 days' END) AS last_at) AS d
         WHERE e.seq > (SELECT seq FROM scale_mark)
         ORDER BY e.seq`,
      values: [now],
    },
    {
      step: 'webhook redeliveries',
      // The merchant asked again for failed deliveries older than a week; those went through.
      sql: `INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin, status,
              attempt_count, next_attempt_at, last_attempt_at, last_status_code, created_at, completed_at)
        SELECT ${timeLedId('del', "d.completed_at + interval '1 hour'", "'redel' || d.id")}, d.event_id, d.endpoint_id, d.merchant_id, false, 'redelivery',
               'succeeded', 1, d.completed_at + interval '1 hour', d.completed_at + interval '1 hour', 200,
               d.completed_at + interval '1 hour', d.completed_at + interval '1 hour'
          FROM webhook_deliveries d JOIN scale_merchants m ON m.endpoint_id = d.endpoint_id
         WHERE d.status = 'failed' AND d.origin = 'event' AND d.completed_at < $1::timestamptz - interval '7 days'`,
      values: [now],
    },
    { step: 'drop plan', sql: 'DROP TABLE scale_plan, scale_merchants, scale_mark' },
    // A database that grew to this size over months has been vacuumed by autovacuum as it grew (hint bits set,
    // visibility map built) and its dirty pages written out. Loaded in minutes, it has not: autovacuum would start
    // on the new tables, and a checkpoint flush the load's pages, during the first scenarios — one-off work that
    // halved create-checkout's rate in two of three loaded suites (docs/performance.md, "Scale with data").
    { step: 'vacuum', sql: 'VACUUM (ANALYZE)' },
    // CHECKPOINT needs a superuser or pg_checkpoint; without either, the load goes on without it.
    { step: 'checkpoint', sql: 'CHECKPOINT', optional: true },
  ];
}

/**
 * Loads the history through `client` (one session: the plan is in temporary tables). Meant for a fresh
 * database with the bench merchant and nothing else of consequence; it fails (and writes nothing of that
 * step) if the ids it generates are already there.
 */
export async function loadScaleHistory(
  client: pg.ClientBase,
  options: ScaleHistoryOptions,
): Promise<ScaleHistoryResult> {
  const started = performance.now();
  const done: ScaleHistoryResult['steps'] = [];
  for (const step of steps(options)) {
    const stepStarted = performance.now();
    let result: pg.QueryResult;
    try {
      result = await client.query(step.sql, step.values);
    } catch (error) {
      if (!step.optional) throw error;
      options.log?.(`${step.step}: skipped (${(error as Error).message})`);
      continue;
    }
    const seconds = Math.round((performance.now() - stepStarted) / 10) / 100;
    done.push({ step: step.step, rows: result.rowCount ?? 0, seconds });
    options.log?.(`${step.step}: ${(result.rowCount ?? 0).toLocaleString('en-US')} rows in ${seconds} s`);
  }
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  return { seconds, steps: done, counts: await countScaleRows(client) };
}

/** Row counts of the tables the history fills (exact counts, not estimates). */
export async function countScaleRows(client: pg.ClientBase): Promise<Record<string, number>> {
  const { rows } = await client.query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM merchants) AS merchants,
            (SELECT count(*) FROM customers) AS customers,
            (SELECT count(*) FROM orders) AS orders,
            (SELECT count(*) FROM checkouts) AS checkouts,
            (SELECT count(*) FROM checkouts WHERE status = 'OPEN') AS open_checkouts,
            (SELECT count(*) FROM payments) AS payments,
            (SELECT count(*) FROM captures) AS captures,
            (SELECT count(*) FROM refunds) AS refunds,
            (SELECT count(*) FROM events) AS events,
            (SELECT count(*) FROM webhook_endpoints) AS webhook_endpoints,
            (SELECT count(*) FROM webhook_deliveries) AS webhook_deliveries,
            (SELECT count(*) FROM callback_notifications) AS callback_notifications`,
  );
  return Object.fromEntries(Object.entries(rows[0]!).map(([name, value]) => [name, Number(value)]));
}
