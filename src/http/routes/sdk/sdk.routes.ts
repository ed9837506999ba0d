import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { notFoundError } from '../../../lib/errors.ts';
import type { Services } from '../../../services.ts';
import type { KassaApp } from '../../http.types.ts';
import { registerCheckoutSessionRoute } from './checkout-session.routes.ts';
import { registerSdkCors } from './sdk-cors.ts';

/**
 * The browser SDK (docs/sdk.md): the script at /sdk/v1/kassa.js (and its type declarations), the checkout
 * summary it reads (`checkout-session.routes.ts`), and the only cross-origin access Kassa allows
 * (`sdk-cors.ts`). A payment link's landing page, or any merchant page, uses it to show the payment methods.
 */

const SDK_DIRECTORY = new URL('../../../../public/sdk/v1/', import.meta.url);

export function registerSdkRoutes(app: KassaApp, services: Services) {
  registerSdkCors(app); // first: it attaches its headers to the CORS routes as they are registered
  registerSdkFiles(app);
  registerCheckoutSessionRoute(app, services);
}

function registerSdkFiles(app: KassaApp) {
  const sdkFiles = new Map<string, { body: Buffer; type: string; etag: string }>();
  for (const [name, type] of [
    ['kassa.js', 'text/javascript; charset=utf-8'],
    ['kassa.d.ts', 'application/typescript; charset=utf-8'],
  ] as const) {
    const body = readFileSync(new URL(name, SDK_DIRECTORY));
    sdkFiles.set(name, { body, type, etag: `"${createHash('sha384').update(body).digest('base64url')}"` });
  }

  app.get(
    '/sdk/v1/:file',
    { config: { auth: 'public' }, schema: { hide: true, params: z.object({ file: z.string().max(40) }) } },
    async (request, reply) => {
      const file = sdkFiles.get(request.params.file);
      if (!file) throw notFoundError('file', request.params.file);
      // A versioned path never changes once published (the SRI hash merchants pin depends on it), so it
      // may be cached for a year. ACAO lets `<script integrity crossorigin>` on any origin check the hash.
      reply
        .type(file.type)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('etag', file.etag)
        .header('access-control-allow-origin', '*')
        .header('cross-origin-resource-policy', 'cross-origin')
        .header('x-content-type-options', 'nosniff');
      if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
      return reply.send(file.body);
    },
  );
}
