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
 * People (the team, the audit log) are not an API resource: `ROLE_USERS_PERMISSION` below.
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

/**
 * People — the Team page, invitations and the audit log of sign-ins and changes — are a permission of the
 * dashboard alone, outside the API's scopes (no API credential holds it: the API has no people routes, and
 * `GET /v1/audit-log` keeps `merchant:read`). `users` manages people, `users:read` reads them
 * (docs/dashboard.md "People and roles"). Owners hold `users`; a viewer, who reads everything, holds
 * `users:read`; developers and support hold neither: who is on the team and from which address each person
 * signs in is not theirs to see, whatever the shop's settings they may read.
 */
export type UsersPermission = 'users' | 'users:read';

export const ROLE_USERS_PERMISSION: Readonly<Record<Role, UsersPermission | undefined>> = {
  owner: 'users',
  developer: undefined,
  support: undefined,
  viewer: 'users:read',
};

/** Whether `role` may see (`read`) or change (`write`) the shop's people and audit log. */
export function roleAllowsUsers(role: Role, access: ScopeAccess): boolean {
  const held = ROLE_USERS_PERMISSION[role];
  return held === 'users' || (access === 'read' && held === 'users:read');
}

/** Only owners manage people: invite, remove, change roles, reset another person's password. */
export function roleManagesTeam(role: Role): boolean {
  return roleAllowsUsers(role, 'write');
}

/** Who sees the Team page and the audit log (read only unless `roleManagesTeam`): `users:read`. */
export function roleSeesTeam(role: Role): boolean {
  return roleAllowsUsers(role, 'read');
}
