/** /v1/processor-accounts: create, read, list, update, delete; mode rules; secrets sealed and shown as hints. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring } from '../../../src/lib/keyring.ts';
import { createProcessorAccountService } from '../../../src/modules/processor-accounts/processor-account.service.ts';
import { createFakeProcessor } from '../../fixtures/fake-processor.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

// A test double of an external processor, in the `stripe` slot of this app only (test/fixtures/fake-processor.ts).
const fake = createFakeProcessor('stripe');
const TEST_KEY = 'fk_test_51AbCdEfGh9z7Q';
const LIVE_KEY = 'fk_live_51ZyXwVuTs4k2M';
const WEBHOOK_SECRET = 'whsec_0123456789abcdef0123';

let t: TestApp;
let merchant: TestMerchant;
let live: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({ processorModules: { stripe: fake.module } });
  merchant = await t.createMerchant();
  live = await t.createMerchant({ livemode: true, name: 'Live Shop' });
});
afterAll(async () => {
  await t.close();
});

type Account = {
  id: string;
  object: string;
  processor: string;
  livemode: boolean;
  status: string;
  payment_methods: string[];
  currencies: string[] | null;
  priority: number;
  webhook_url: string;
  webhook_secret_set: boolean;
  credentials: Record<string, string>;
  version: number;
  api_base_url: string | null;
};

function call(
  method: 'POST' | 'GET' | 'PATCH' | 'DELETE',
  url: string,
  who: TestMerchant,
  payload?: object,
  headers: Record<string, string> = {},
) {
  return t.app.inject({
    method,
    url,
    headers: { ...who.headers, ...headers },
    ...(payload ? { payload } : {}),
  });
}

async function createOk(payload: Record<string, unknown>, who: TestMerchant = merchant): Promise<Account> {
  const response = await call('POST', '/v1/processor-accounts', who, payload);
  expect(response.statusCode, response.body).toBe(201);
  return response.json<Account>();
}

async function eventsOf(objectId: string): Promise<{ type: string; data: Record<string, unknown> }[]> {
  const { rows } = await t.database.db.query<{ type: string; data: Record<string, unknown> }>(
    'SELECT type, data FROM events WHERE object_id = $1 ORDER BY seq',
    [objectId],
  );
  return rows;
}

describe('POST /v1/processor-accounts', () => {
  it('connects a sandbox account in test mode, with its webhook URL and an event', async () => {
    const account = await createOk({
      processor: 'sandbox',
      credentials: {},
      payment_methods: ['card', 'invoice'],
    });
    expect(account).toMatchObject({
      object: 'processor_account',
      processor: 'sandbox',
      livemode: false,
      status: 'ENABLED',
      payment_methods: ['card', 'invoice'],
      currencies: null,
      priority: 0,
      credentials: {},
      webhook_secret_set: false,
      version: 1,
      webhook_url: `${t.config.publicUrl}/v1/processor-webhooks/${account.id}`,
    });
    expect(account.id).toMatch(/^pa_[0-9a-f]{44}$/);
    const events = await eventsOf(account.id);
    expect(events.map((event) => event.type)).toEqual(['processor_account.created']);
    expect(events[0]!.data).toMatchObject({ id: account.id, object: 'processor_account' });
  });

  it('answers secrets as their last 4 characters only, and stores them sealed', async () => {
    const account = await createOk({
      processor: 'stripe',
      credentials: { api_key: TEST_KEY, webhook_secret: WEBHOOK_SECRET },
      payment_methods: ['card'],
      currencies: ['eur', 'DKK'],
      priority: 5,
      api_base_url: 'http://127.0.0.1:9',
    });
    expect(account.credentials).toEqual({ api_key: 'fk_test_…9z7Q', webhook_secret: 'whsec_…0123' });
    expect(account.credentials.api_key).toBe(`fk_test_…${TEST_KEY.slice(-4)}`);
    expect(account).toMatchObject({ currencies: ['EUR', 'DKK'], priority: 5, webhook_secret_set: true });
    expect(account.api_base_url).toBe('http://127.0.0.1:9');
    const fetched = await call('GET', `/v1/processor-accounts/${account.id}`, merchant);
    expect(fetched.body).not.toContain(TEST_KEY);
    expect(fetched.body).not.toContain(WEBHOOK_SECRET);
    // The row holds neither secret in clear; the keyring opens them.
    const { rows } = await t.database.db.query<Record<string, unknown>>(
      'SELECT * FROM processor_accounts WHERE id = $1',
      [account.id],
    );
    const raw = JSON.stringify(rows[0], (_key, value: unknown) =>
      Buffer.isBuffer(value) ? value.toString('latin1') : value,
    );
    expect(raw).not.toContain(TEST_KEY.slice(8));
    expect(raw).not.toContain(WEBHOOK_SECRET.slice(6));
    const stored = await t.services.processorAccounts.get(t.database.db, merchant, account.id);
    expect(t.services.processorAccounts.openCredentials(stored)).toEqual({
      api_key: TEST_KEY,
      webhook_secret: WEBHOOK_SECRET,
    });
    // …and the events never carry them either.
    expect(JSON.stringify(await eventsOf(account.id))).not.toContain(TEST_KEY);
  });

  it('takes the mode of the Kassa credential: credentials of the other mode are a 422 with a pointer', async () => {
    const testKeyOnLive = await call('POST', '/v1/processor-accounts', live, {
      processor: 'stripe',
      credentials: { api_key: TEST_KEY },
      payment_methods: ['card'],
    });
    expect(testKeyOnLive.statusCode).toBe(422);
    expect(expectProblem(testKeyOnLive).errors).toEqual([
      expect.objectContaining({ pointer: '/credentials/api_key', code: 'livemode_mismatch' }),
    ]);
    const liveKeyOnTest = await call('POST', '/v1/processor-accounts', merchant, {
      processor: 'stripe',
      credentials: { api_key: LIVE_KEY },
      payment_methods: ['card'],
    });
    expect(expectProblem(liveKeyOnTest).errors?.[0]).toMatchObject({ pointer: '/credentials/api_key' });
    const sandboxOnLive = await call('POST', '/v1/processor-accounts', live, {
      processor: 'sandbox',
      credentials: {},
      payment_methods: ['card'],
    });
    expect(expectProblem(sandboxOnLive).errors?.[0]).toMatchObject({ pointer: '/processor' });
    const liveAccount = await createOk(
      { processor: 'stripe', credentials: { api_key: LIVE_KEY }, payment_methods: ['card'] },
      live,
    );
    expect(liveAccount).toMatchObject({ livemode: true, webhook_secret_set: false });
  });

  it('checks the credentials with the processor module and the request shape with the schema', async () => {
    const badKey = await call('POST', '/v1/processor-accounts', merchant, {
      processor: 'stripe',
      credentials: { api_key: 'nonsense' },
      payment_methods: ['card'],
    });
    expect(expectProblem(badKey).errors?.[0]).toMatchObject({ pointer: '/credentials/api_key' });
    const badCurrency = await call('POST', '/v1/processor-accounts', merchant, {
      processor: 'sandbox',
      credentials: {},
      payment_methods: ['card'],
      currencies: ['XYZ'],
    });
    expect(expectProblem(badCurrency).errors?.[0]).toMatchObject({ pointer: '/currencies' });
    const noMethods = await call('POST', '/v1/processor-accounts', merchant, {
      processor: 'sandbox',
      credentials: {},
      payment_methods: [],
    });
    expect(expectProblem(noMethods).status).toBe(422);
    const unknownProcessor = await call('POST', '/v1/processor-accounts', merchant, {
      processor: 'paypal',
      credentials: {},
      payment_methods: ['card'],
    });
    expect(expectProblem(unknownProcessor).status).toBe(422);
  });

  it('is idempotent with an Idempotency-Key', async () => {
    const body = { processor: 'sandbox', credentials: {}, payment_methods: ['card'] };
    const headers = { 'idempotency-key': 'pa-create-1' };
    const first = await call('POST', '/v1/processor-accounts', merchant, body, headers);
    const second = await call('POST', '/v1/processor-accounts', merchant, body, headers);
    expect(first.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    const other = await call('POST', '/v1/processor-accounts', merchant, { ...body, priority: 3 }, headers);
    expect(expectProblem(other).code).toBe('idempotency_key_reused');
  });

  it('refuses api_base_url on a production gateway', async () => {
    // The service with the production rule (a production gateway cannot be started in this test process).
    const service = createProcessorAccountService({
      keyring: createKeyring(Buffer.alloc(32, 7)),
      clock: t.services.clock,
      modules: t.services.processorModules,
      environment: 'production',
      publicUrl: 'https://pay.example',
    });
    const attempt = t.database.db.transaction((tx) =>
      service.create(tx, merchant, {
        processor: 'stripe',
        credentials: { api_key: TEST_KEY },
        paymentMethods: ['card'],
        apiBaseUrl: 'http://127.0.0.1:9',
      }),
    );
    await expect(attempt).rejects.toMatchObject({
      code: 'validation_failed',
      errors: [expect.objectContaining({ pointer: '/api_base_url', code: 'not_allowed_in_production' })],
    });
  });
});

describe('GET, PATCH and DELETE /v1/processor-accounts', () => {
  it('lists the mode’s accounts newest first, and hides other merchants’ and modes’ accounts', async () => {
    const stranger = await t.createMerchant({ name: 'Stranger' });
    const mine = await createOk({ processor: 'sandbox', credentials: {}, payment_methods: ['wallet'] });
    const list = await call('GET', '/v1/processor-accounts?limit=2', merchant);
    expect(list.statusCode).toBe(200);
    const page = list.json<{
      object: string;
      data: Account[];
      has_more: boolean;
      next_cursor: string | null;
    }>();
    expect(page).toMatchObject({ object: 'list', has_more: true });
    expect(page.data[0]!.id).toBe(mine.id);
    expect((await call('GET', `/v1/processor-accounts/${mine.id}`, stranger)).statusCode).toBe(404);
    expect((await call('GET', `/v1/processor-accounts/${mine.id}`, live)).statusCode).toBe(404);
    const strangers = await call('GET', '/v1/processor-accounts', stranger);
    expect(strangers.json<{ data: unknown[] }>().data).toEqual([]);
  });

  it('sets the webhook secret later, changes routing fields, and skips a patch that changes nothing', async () => {
    const account = await createOk({
      processor: 'stripe',
      credentials: { api_key: TEST_KEY },
      payment_methods: ['card'],
    });
    expect(account.webhook_secret_set).toBe(false);
    const patched = await call('PATCH', `/v1/processor-accounts/${account.id}`, merchant, {
      credentials: { webhook_secret: WEBHOOK_SECRET },
      currencies: ['SEK'],
      priority: -2,
      status: 'DISABLED',
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({
      webhook_secret_set: true,
      currencies: ['SEK'],
      priority: -2,
      status: 'DISABLED',
      version: 2,
      credentials: { api_key: `fk_test_…${TEST_KEY.slice(-4)}`, webhook_secret: 'whsec_…0123' },
    });
    const same = await call('PATCH', `/v1/processor-accounts/${account.id}`, merchant, {
      priority: -2,
      credentials: { webhook_secret: WEBHOOK_SECRET },
    });
    expect(same.json()).toMatchObject({ version: 2 });
    const everyCurrency = await call('PATCH', `/v1/processor-accounts/${account.id}`, merchant, {
      currencies: null,
    });
    expect(everyCurrency.json()).toMatchObject({ currencies: null, version: 3 });
    const liveKey = await call('PATCH', `/v1/processor-accounts/${account.id}`, merchant, {
      credentials: { api_key: LIVE_KEY },
    });
    expect(expectProblem(liveKey).errors?.[0]).toMatchObject({ pointer: '/credentials/api_key' });
    const unknownField = await call('PATCH', `/v1/processor-accounts/${account.id}`, merchant, {
      processor: 'adyen',
    });
    expect(unknownField.statusCode).toBe(422);
    expect((await eventsOf(account.id)).map((event) => event.type)).toEqual([
      'processor_account.created',
      'processor_account.updated',
      'processor_account.updated',
    ]);
  });

  it('deletes softly: 404 afterwards, an event, and the row kept', async () => {
    const account = await createOk({ processor: 'sandbox', credentials: {}, payment_methods: ['card'] });
    const deleted = await call('DELETE', `/v1/processor-accounts/${account.id}`, merchant);
    expect(deleted.json()).toEqual({ id: account.id, object: 'processor_account', deleted: true });
    expect((await call('GET', `/v1/processor-accounts/${account.id}`, merchant)).statusCode).toBe(404);
    expect((await call('DELETE', `/v1/processor-accounts/${account.id}`, merchant)).statusCode).toBe(404);
    const { rows } = await t.database.db.query<{ deleted_at: Date | null }>(
      'SELECT deleted_at FROM processor_accounts WHERE id = $1',
      [account.id],
    );
    expect(rows[0]!.deleted_at).toBeInstanceOf(Date);
    expect((await eventsOf(account.id)).map((event) => event.type)).toContain('processor_account.deleted');
  });

  it('needs the processor_accounts scope', async () => {
    const key = await call('POST', '/v1/api-keys', merchant, { type: 'restricted', scopes: ['checkouts'] });
    expect(key.statusCode, key.body).toBe(201);
    const restricted = {
      ...merchant,
      headers: { authorization: `Bearer ${key.json<{ secret: string }>().secret}` },
    };
    const refused = await call('GET', '/v1/processor-accounts', restricted);
    expect(expectProblem(refused)).toMatchObject({ status: 403, code: 'insufficient_scope' });
  });
});
