import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who causes the work running now — the `actor` every event carries and every audit entry names — carried
 * with the work's async context (an AsyncLocalStorage, as the trace context is: src/metrics/trace-context.ts),
 * so services need no parameter for it:
 *
 * - an API request: `{type: 'credential', id}` — the API key (`key_…`) or the OAuth client (`cli_…`) it
 *   authenticated with (src/http/plugins/actor-context.ts resolves it once authentication has run);
 * - a shopper's request (hosted page, payment link, a checkout's client token): `{type: 'shopper', id}` —
 *   the checkout or payment link acted on, when the route names one;
 * - a dashboard user: `{type: 'user', id}`;
 * - background work (expiry, recovery, the sandbox acquirer, the CLI): `{type: 'system', id}` — the worker's
 *   or command's name. Work outside any context is `system` too.
 */

export type ActorType = 'credential' | 'user' | 'system' | 'shopper';

export type Actor = { type: ActorType; id: string };

export type ActorContext = {
  /** Resolved when asked: authentication may run after the context is entered. */
  actor(): Actor;
  /** The client's address (after the trusted-proxy rule), for the audit trail. */
  clientAddress: string | null;
};

const storage = new AsyncLocalStorage<ActorContext>();

/** The actor of work outside every context. */
export const UNATTRIBUTED_SYSTEM_ACTOR: Actor = { type: 'system', id: 'kassa' };

/** Runs `work` with `context`: for the HTTP hook, workers (`runAsSystem`), the CLI and tests. */
export function runWithActorContext<T>(context: ActorContext, work: () => T): T {
  return storage.run(context, work);
}

/** Runs `work` as `actor` (with no client address). */
export function runAsActor<T>(actor: Actor, work: () => T): T {
  return storage.run({ actor: () => actor, clientAddress: null }, work);
}

/** Runs `work` as Kassa itself, named `name` (a worker: `expire-checkouts`; a command: `cli`). */
export function runAsSystem<T>(name: string, work: () => T): T {
  return runAsActor({ type: 'system', id: name }, work);
}

/** The actor of the work running now (`system` outside every context). */
export function currentActor(): Actor {
  return storage.getStore()?.actor() ?? UNATTRIBUTED_SYSTEM_ACTOR;
}

/** The client address of the request being handled, if the work runs for one. */
export function currentClientAddress(): string | null {
  return storage.getStore()?.clientAddress ?? null;
}
