import {
  FULL_ACCESS,
  RESOURCE_SCOPES,
  allows,
  type ResourceScope,
  type Scope,
  type ScopeAccess,
} from '../auth/scopes.ts';

/**
 * Dashboard roles as scopes of the API's one permission vocabulary (src/modules/auth/scopes.ts): a person
 * signed in with a role holds exactly the scopes an API credential with those scopes would, and every page
 * and action checks them on the server with the same `allows()` the API's authentication hook uses.
 *
 * Managing people (the team) is not an API resource; only owners may, as `manageTeam` says.
 */

export const ROLES = ['owner', 'developer', 'support', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const READ_ALL: readonly Scope[] = RESOURCE_SCOPES.map((name) => `${name}:read` as const);

export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  /** Everything, live credentials included. */
  owner: FULL_ACCESS,
  /** Credentials, webhooks, settings and processor accounts; reads payments and orders, moves no money. */
  developer: [
    'api_keys',
    'webhooks',
    'merchant',
    'processor_accounts',
    'checkouts',
    'payment_links',
    'orders:read',
    'payments:read',
    'customers:read',
  ],
  /** Orders, captures, voids and refunds (up to the full amount), checkouts and payment links. */
  support: [
    'orders',
    'payments',
    'checkouts',
    'payment_links',
    'customers:read',
    'webhooks:read',
    'merchant:read',
  ],
  /** Reads everything but credentials; changes nothing. */
  viewer: READ_ALL.filter((scope) => scope !== 'api_keys:read'),
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function scopesOfRole(role: Role): ReadonlySet<string> {
  return new Set(ROLE_SCOPES[role]);
}

/** Whether `role` may read (`read`) or change (`write`) `resource`. */
export function roleAllows(role: Role, resource: ResourceScope, access: ScopeAccess): boolean {
  return allows(scopesOfRole(role), resource, access);
}

/** Only owners manage people: invite, remove, change roles, reset another person's password. */
export function roleManagesTeam(role: Role): boolean {
  return role === 'owner';
}

/**
 * Who sees the Team page and the audit log (read only unless `roleManagesTeam`): whoever may read the shop's
 * settings (`merchant:read`, every role today), as `GET /v1/audit-log` asks of an API caller.
 */
export function roleSeesTeam(role: Role): boolean {
  return roleAllows(role, 'merchant', 'read');
}
