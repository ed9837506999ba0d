import type { FastifyRequest } from 'fastify';
import { runWithActorContext, type Actor } from '../../lib/actor-context.ts';
import type { KassaApp } from '../http.types.ts';

/**
 * Runs each request's handling inside its actor context (src/lib/actor-context.ts): events it emits and
 * audit entries it writes name the credential that authenticated it, or the shopper's checkout or payment
 * link. Register it before authentication: the actor is read when asked, once authentication has set
 * `request.merchant` / `request.clientToken`.
 */
export function registerActorContext(app: KassaApp): void {
  app.addHook('onRequest', (request, _reply, done) => {
    runWithActorContext({ actor: () => actorOf(request), clientAddress: request.ip ?? null }, done);
  });
}

/** The id of what a shopper's route acts on (`/pay/:id/…`, `/l/:id`), if it names one. */
function shopperObjectId(request: FastifyRequest): string {
  const params = (request.params ?? {}) as Record<string, unknown>;
  for (const name of ['id', 'checkout_id', 'checkoutId', 'link_id', 'linkId']) {
    const value = params[name];
    if (typeof value === 'string' && /^[a-z]+_[0-9A-Za-z]{1,64}$/.test(value)) return value;
  }
  return 'anonymous';
}

export function actorOf(request: FastifyRequest): Actor {
  if (request.merchant) return { type: 'credential', id: request.merchant.credential.id };
  if (request.dashboardUserId) return { type: 'user', id: request.dashboardUserId };
  if (request.clientToken) return { type: 'shopper', id: request.clientToken.checkoutId };
  return { type: 'shopper', id: shopperObjectId(request) };
}
