/**
 * The README's secret-key walkthrough is server code written with the Node client (@kassa/node): this test
 * takes its two TypeScript blocks out of README.md as they are, type-checks them against the generated API
 * types, and runs them (`tsx`, as the README says) against a gateway on loopback, paying the checkout on the
 * hosted page in between. Each `// →` comment in the README is the output the reader is promised: the
 * scripts' output must show it, in order ('…' stands for ids and secrets).
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../../packages/node/src/index.ts';
import { startWorkers } from '../../../src/workers/workers.ts';
import { createTestApp, type TestApp } from '../../fixtures/test-app.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../webhooks/webhook-receiver.ts';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
// Inside the repository, where a reader saves the scripts: `@kassa/node` resolves through node_modules/.
const scratch = path.join(REPO_ROOT, '.tmp', `readme-walkthrough-${process.pid}`);

/** The ```ts block of the README whose first line is `// <name>: …`. */
function readmeBlock(name: string): string {
  const match = new RegExp('```ts\\n(// ' + name.replace('.', '\\.') + ':[\\s\\S]*?)```').exec(README);
  if (!match) throw new Error(`README.md has no \`\`\`ts block starting with // ${name}:`);
  return match[1]!;
}

/** The outputs a block promises: its `// →` comments (and their `//   ` continuation lines), asides dropped. */
function promisedOutputs(block: string): string[] {
  const outputs: string[] = [];
  let inOutput = false;
  for (const line of block.split('\n')) {
    const arrow = /^\s*\/\/ → (.*)$/.exec(line);
    const continued = /^\s*\/\/ {3}(.*)$/.exec(line);
    if (arrow) outputs.push(arrow[1]!);
    else if (inOutput && continued) outputs.push(continued[1]!);
    inOutput = Boolean(arrow) || (inOutput && Boolean(continued));
  }
  // "5500      (no amount: all that remains)": the part after a wide gap is a remark for the reader.
  return outputs.map((output) => output.replace(/\s{2,}\(.*\)$/, '').trim());
}

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Checks that `stdout` shows every promised output, in order; '…' matches an id, a secret or a URL tail. */
function expectOutputs(stdout: string, promised: string[], baseUrl: string) {
  const actual = squash(stdout);
  let from = 0;
  for (const output of promised) {
    const pattern = squash(output.replaceAll('http://localhost:3000', baseUrl))
      .split('…')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join("[^\\s']*");
    const found = new RegExp(pattern).exec(actual.slice(from));
    expect(
      found,
      `README promises "${output}" after: ${actual.slice(0, from)}\nin: ${actual}`,
    ).not.toBeNull();
    from += found!.index + found![0].length;
  }
}

let t: TestApp;
let receiver: WebhookReceiver;
let workers: { stop(): Promise<void> } | undefined;
const checkoutScript = path.join(scratch, 'shop-checkout.ts');
const orderScript = path.join(scratch, 'shop-order.ts');

beforeAll(async () => {
  t = await createTestApp({ listen: true });
  receiver = await startWebhookReceiver();
  workers = startWorkers(t.services, t.app.log);
  await mkdir(scratch, { recursive: true });
  await writeFile(checkoutScript, readmeBlock('shop-checkout.ts'));
  await writeFile(orderScript, readmeBlock('shop-order.ts'));
}, 60_000);

afterAll(async () => {
  await workers?.stop();
  await receiver?.close();
  await t?.close();
  await rm(scratch, { recursive: true, force: true });
});

async function runScript(script: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 60_000,
  });
  return stdout;
}

/** The shopper on the hosted page: loads it, submits a card, answers where the page sent them. */
async function payOnHostedPage(url: string, cardNumber: string) {
  const page = new URL(url).pathname;
  const html = await (await fetch(`${t.baseUrl}${page}`)).text();
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1];
  expect(csrf, html).toBeDefined();
  const response = await fetch(`${t.baseUrl}${page}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      csrf_token: csrf!,
      payment_method: 'card',
      card_name: 'Hana Sato',
      card_number: cardNumber,
      card_expiry: '12/34',
      card_cvc: '737',
    }).toString(),
  });
  await response.body?.cancel();
  return { status: response.status, location: response.headers.get('location') };
}

function printed(stdout: string) {
  const order = /^ORDER=(ord_[0-9a-f]+)$/m.exec(stdout)?.[1];
  const url = /^(http:\/\/\S+\/pay\/chk_\S+)$/m.exec(stdout)?.[1];
  const secret = /'(whsec_[^']+)'/.exec(stdout)?.[1];
  expect(order, stdout).toBeDefined();
  expect(url, stdout).toBeDefined();
  expect(secret, stdout).toBeDefined();
  return { order: order!, url: url!, secret: secret! };
}

describe("the README's secret-key walkthrough, run as written", () => {
  it('type-checks against the generated API types', async () => {
    await writeFile(
      path.join(scratch, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', include: ['*.ts'] }),
    );
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = await run(process.execPath, [tsc, '--noEmit', '-p', scratch], { cwd: REPO_ROOT }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(checked).toBe('');
  }, 120_000);

  it('prints what the README shows: webhook endpoint, checkout, captures, refunds, a typed refusal', async () => {
    const merchant = await t.createMerchant({ name: 'Demo Shop' });
    const env = { KASSA: t.baseUrl, SK: merchant.apiKey, SHOP: receiver.url };

    const first = await runScript(checkoutScript, env);
    expectOutputs(first, promisedOutputs(readmeBlock('shop-checkout.ts')), t.baseUrl);
    const { order, url, secret } = printed(first);
    // "your shop's terminal shows: POST /webhooks evt_… {"type":"ping",…}", signed with the printed secret.
    await receiver.waitFor((received) => received.some((request) => request.path === '/webhooks'));
    const ping = receiver.received.find((request) => request.path === '/webhooks')!;
    expect(verifyWebhook(secret, ping.body, ping.headers).type).toBe('ping');

    // The Idempotency-Key is the order number: running the script again gives the same checkout.
    expect(printed(await runScript(checkoutScript, env)).url).toBe(url);

    const paid = await payOnHostedPage(url, '4242424242424242');
    expect(paid.status).toBe(303);
    expect(paid.location).toContain(`${receiver.url}/success?`);
    expect(paid.location).toContain('status=AUTHORIZED');

    const managed = await runScript(orderScript, { ...env, ORDER: order });
    expectOutputs(managed, promisedOutputs(readmeBlock('shop-order.ts')), t.baseUrl);

    // "running shop-order.ts a second time replays the same captures and refund instead of doing them again"
    const again = await runScript(orderScript, { ...env, ORDER: order });
    const afterPayments = (stdout: string) => stdout.slice(stdout.indexOf(']\n') + 2);
    expect(afterPayments(again)).toBe(afterPayments(managed));
    const payment = await t.app.inject({
      url: `/v1/orders/${order}/payments`,
      headers: merchant.headers,
    });
    const [only] = payment.json<{ data: { captured_amount: number; refunded_amount: number }[] }>().data;
    expect(only).toMatchObject({ captured_amount: 5500, refunded_amount: 2500 });
  }, 180_000);

  it('manages the payment that went through when a declined card was tried first', async () => {
    const merchant = await t.createMerchant({ name: 'Declined First' });
    const env = { KASSA: t.baseUrl, SK: merchant.apiKey, SHOP: receiver.url };
    const { order, url } = printed(await runScript(checkoutScript, env));
    // The page says the card was declined (402) and the checkout stays open.
    expect((await payOnHostedPage(url, '4000000000000002')).status).toBe(402);
    expect((await payOnHostedPage(url, '4242424242424242')).status).toBe(303);

    const managed = await runScript(orderScript, { ...env, ORDER: order });
    // Newest first: the authorized payment, then the declined one; the captures went to the first.
    expect(squash(managed)).toMatch(
      /\[ \[ 'pay_\w+', 'AUTHORIZED', 5500, 'visa', '4242' \], \[ 'pay_\w+', 'REJECTED'/,
    );
    expect(squash(managed)).toContain("[ 'SUCCEEDED', 3000 ]");
    expect(squash(managed)).toContain('PARTIALLY_REFUNDED');
  }, 120_000);
});
