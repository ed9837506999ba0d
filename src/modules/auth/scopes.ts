/**
 * The one permission vocabulary of the API (docs/api-conventions.md §12, docs/security.md "Scopes").
 *
 * A resource name (`checkouts`) grants reading and writing its routes; `<name>:read` grants GET/HEAD only.
 * Every authenticated route names its resource in `config.scope`; the authentication hook refuses a caller
 * whose credential does not hold it (403 `insufficient_scope`). Secret API keys hold every scope; access
 * tokens hold exactly what was asked for at `POST /v1/oauth/tokens`; restricted keys and OAuth clients hold
 * the scopes chosen when they were made.
 */

export const RESOURCE_SCOPES = [
  'checkouts',
  'orders',
  'payments',
  'payment_links',
  'webhooks',
  'customers',
  'merchant',
  'processor_accounts',
  'api_keys',
] as const;

export type ResourceScope = (typeof RESOURCE_SCOPES)[number];
export type Scope = ResourceScope | `${ResourceScope}:read`;
export type ScopeAccess = 'read' | 'write';

const RESOURCE_SET: ReadonlySet<string> = new Set(RESOURCE_SCOPES);

/** Every scope value the server knows, bare names first. */
export const ALL_SCOPE_VALUES: readonly Scope[] = [
  ...RESOURCE_SCOPES,
  ...RESOURCE_SCOPES.map((name) => `${name}:read` as const),
];

/** What a credential with every permission holds: the bare names (each implies its `:read`). */
export const FULL_ACCESS: readonly Scope[] = RESOURCE_SCOPES;

export function isResourceScope(value: string): value is ResourceScope {
  return RESOURCE_SET.has(value);
}

export function isScope(value: string): value is Scope {
  const [name, suffix, extra] = value.split(':');
  return extra === undefined && isResourceScope(name!) && (suffix === undefined || suffix === 'read');
}

/** GET and HEAD read; every other method writes. */
export function accessOf(method: string): ScopeAccess {
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/** The one scope value a route needs, as named in the 403 and in `WWW-Authenticate`. */
export function requiredScope(resource: ResourceScope, access: ScopeAccess): Scope {
  return access === 'read' ? `${resource}:read` : resource;
}

/** Whether `held` allows `access` to `resource`: the bare name allows both, `:read` only reading. */
export function allows(held: ReadonlySet<string>, resource: ResourceScope, access: ScopeAccess): boolean {
  return held.has(resource) || (access === 'read' && held.has(`${resource}:read`));
}

/** Whether every scope of `wanted` is allowed by `held` (`orders:read` is within `orders`). */
export function isWithin(wanted: Iterable<Scope>, held: ReadonlySet<string>): boolean {
  for (const scope of wanted) {
    const [name, suffix] = scope.split(':') as [ResourceScope, string | undefined];
    if (!allows(held, name, suffix === 'read' ? 'read' : 'write')) return false;
  }
  return true;
}

/**
 * A space-separated scope string (RFC 6749 §3.3) or a list as a sorted, de-duplicated list; `unknown` holds
 * the values that are not scopes. `orders:read` beside `orders` is dropped: the bare name already holds it.
 */
export function parseScopes(input: string | readonly string[]): { scopes: Scope[]; unknown: string[] } {
  const values = typeof input === 'string' ? input.split(' ').filter(Boolean) : input;
  const unknown = values.filter((value) => !isScope(value));
  const known = new Set(values.filter(isScope));
  const scopes = ALL_SCOPE_VALUES.filter(
    (scope) => known.has(scope) && !(scope.endsWith(':read') && known.has(scope.slice(0, -5) as Scope)),
  );
  return { scopes, unknown };
}

export function formatScopes(scopes: readonly Scope[]): string {
  return scopes.join(' ');
}
