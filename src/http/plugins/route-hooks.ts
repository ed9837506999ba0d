import type { RouteOptions } from 'fastify';
import type { KassaApp, RouteAuth } from '../http.types.ts';

/**
 * Hooks that only some routes need are attached to those routes (from an `onRoute` hook) rather than to the
 * whole app: an app-wide hook runs on every request, and an async one costs a promise and a microtask turn
 * each time even when it has nothing to do (the public hosted page has no credential to check).
 *
 * A route's own hooks run after the app-wide ones. The hooks added here run in the order they were added
 * (authentication, then the credential limit, then the API version pin), before any hook the route declares
 * itself. A new array each time: Fastify copies a GET route's options for its HEAD route, which gets its own.
 */
type RouteHookName = 'onRequest' | 'preValidation' | 'onSend';

const added = new WeakMap<object, Partial<Record<RouteHookName, number>>>();

export function addRouteHook<H>(route: RouteOptions, name: RouteHookName, hook: H): void {
  const options = route as unknown as Record<RouteHookName, unknown>;
  const current = options[name];
  const own = current === undefined ? [] : Array.isArray(current) ? current : [current];
  const counts = added.get(route) ?? {};
  const at = counts[name] ?? 0;
  options[name] = [...own.slice(0, at), hook, ...own.slice(at)];
  counts[name] = at + 1;
  added.set(route, counts);
}

/** Whether a route declared as `auth` authenticates its requests: any mode but `public` (or none). */
export function isAuthenticated(auth: RouteAuth | undefined): auth is Exclude<RouteAuth, 'public'> {
  return auth !== undefined && auth !== 'public';
}

/** Attaches `hook` to every authenticated route as it is registered (after the hooks attached before it). */
export function addAuthenticatedRouteHook<H>(app: KassaApp, name: RouteHookName, hook: H): void {
  app.addHook('onRoute', (route) => {
    if (isAuthenticated(route.config?.auth)) addRouteHook(route, name, hook);
  });
}
