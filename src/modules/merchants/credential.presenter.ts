import { FULL_ACCESS } from '../auth/scopes.ts';
import type { StoredApiClient, StoredApiKey } from './credential.repository.ts';

/**
 * The API representation of API keys and OAuth clients: what `/v1/api-keys` and `/v1/oauth-clients` answer
 * and what their events (`api_key.*`, `oauth_client.*`) carry as `data`. Never the secret: the answers to
 * create and roll add it themselves.
 */

export type ApiKeyJson = {
  id: string;
  object: 'api_key';
  livemode: boolean;
  type: 'secret' | 'restricted';
  name: string | null;
  scopes: string[];
  redacted_secret: string;
  status: 'ACTIVE' | 'EXPIRED' | 'REVOKED';
  expires_at: string | null;
  last_used_at: string | null;
  metadata: Record<string, string>;
  version: number;
  created_at: string;
  updated_at: string;
};

export type OAuthClientJson = {
  id: string;
  object: 'oauth_client';
  livemode: boolean;
  name: string | null;
  scopes: string[];
  redacted_secret: string | null;
  previous_secret_expires_at: string | null;
  status: 'ACTIVE' | 'REVOKED';
  last_used_at: string | null;
  metadata: Record<string, string>;
  version: number;
  created_at: string;
  updated_at: string;
};

export function presentApiKey(key: StoredApiKey, now: Date): ApiKeyJson {
  return {
    id: key.id,
    object: 'api_key',
    livemode: key.livemode,
    type: key.type,
    name: key.name,
    scopes: [...(key.scopes ?? FULL_ACCESS)],
    redacted_secret: key.keyHint,
    status:
      key.revokedAt !== null
        ? 'REVOKED'
        : key.expiresAt !== null && key.expiresAt <= now
          ? 'EXPIRED'
          : 'ACTIVE',
    expires_at: key.expiresAt?.toISOString() ?? null,
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
    metadata: key.metadata,
    version: key.version,
    created_at: key.createdAt.toISOString(),
    updated_at: key.updatedAt.toISOString(),
  };
}

export function presentOAuthClient(client: StoredApiClient, now: Date): OAuthClientJson {
  const overlapOpen = client.previousSecretExpiresAt !== null && client.previousSecretExpiresAt > now;
  return {
    id: client.id,
    object: 'oauth_client',
    livemode: client.livemode,
    name: client.name,
    scopes: [...(client.scopes ?? FULL_ACCESS)],
    redacted_secret: client.secretHint,
    previous_secret_expires_at: overlapOpen ? client.previousSecretExpiresAt!.toISOString() : null,
    status: client.revokedAt !== null ? 'REVOKED' : 'ACTIVE',
    last_used_at: client.lastUsedAt?.toISOString() ?? null,
    metadata: client.metadata,
    version: client.version,
    created_at: client.createdAt.toISOString(),
    updated_at: client.updatedAt.toISOString(),
  };
}
