/**
 * The Node client's committed types (packages/node/src/openapi.ts) are what `npm run client:generate` makes of
 * the gateway's live /openapi.json: this fails when a route or schema changed and the types were not
 * regenerated.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { renderTypes, TYPES_PATH } from '../../../packages/node/scripts/render-types.ts';
import { createTestApp, type TestApp } from '../../fixtures/test-app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

it('packages/node/src/openapi.ts matches the live document (run `npm run client:generate` if not)', async () => {
  const document = (await t.app.inject({ url: '/openapi.json' })).json();
  const rendered = await renderTypes(document);
  const committed = await readFile(TYPES_PATH, 'utf8');
  expect(
    committed === rendered,
    'run `npm run client:generate` and commit packages/node/src/openapi.ts',
  ).toBe(true);
});
