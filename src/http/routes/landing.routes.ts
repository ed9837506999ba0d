import { AppError } from '../../lib/errors.ts';
import { html } from '../../lib/html.ts';
import type { KassaApp } from '../http.types.ts';
import { createCspNonce, pageSecurityHeaders } from '../pages/page-security.ts';

/**
 * `GET /`: a browser gets a small page that says what this is and links the API reference, the demo shop
 * (when it runs) and the dashboard; an API client gets the 404 problem document it would get for any other
 * path that is not an API route, with a detail that points at the reference.
 */
export function registerLandingRoute(app: KassaApp, options: { demoShop: boolean }) {
  app.get('/', { schema: { hide: true }, config: { auth: 'public' } }, async (request, reply) => {
    const accept = String(request.headers.accept ?? '');
    if (!/\btext\/html\b/.test(accept)) {
      throw new AppError(
        'route_not_found',
        'This is the Kassa API: its routes are under /v1 — reference at /docs, OpenAPI document at /openapi.json',
      );
    }
    const nonce = createCspNonce();
    const links = [
      { href: '/docs', label: 'API reference', note: 'every route, with /openapi.json behind it' },
      ...(options.demoShop
        ? [{ href: '/demo', label: 'Demo shop', note: 'pay a test order end to end' }]
        : []),
      { href: '/dashboard', label: 'Dashboard', note: 'payments, orders and settings of a merchant' },
    ];
    const page = html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>Kassa</title>
          <style nonce="${nonce}">
            body {
              font:
                16px/1.5 system-ui,
                sans-serif;
              max-width: 36rem;
              margin: 4rem auto;
              padding: 0 1rem;
              color: #1f2328;
            }
            h1 {
              font-size: 1.6rem;
              margin-bottom: 0.25rem;
            }
            ul {
              padding: 0;
              list-style: none;
            }
            li {
              margin: 0.75rem 0;
            }
            a {
              font-weight: 600;
              color: #0b57d0;
            }
            span {
              color: #59636e;
            }
          </style>
        </head>
        <body>
          <h1>Kassa</h1>
          <p>
            A self-hostable hosted-checkout payment gateway. This server answers the API under
            <code>/v1</code>.
          </p>
          <ul>
            ${links.map((link) => html`<li><a href="${link.href}">${link.label}</a> <span>— ${link.note}</span></li>`)}
          </ul>
        </body>
      </html> `;
    return reply
      .status(200)
      .headers(pageSecurityHeaders(nonce, { formActionOrigins: [] }))
      .type('text/html; charset=utf-8')
      .send(page.value);
  });
}
