import { LATEST_API_VERSION } from '../../lib/api-versions.ts';
import type { Metadata } from '../../lib/metadata.ts';
import type { Queryable } from '../../db/client.ts';
import {
  findLiveMerchantRow,
  listLiveMerchantRows,
  type MerchantOwnedTable,
} from '../../db/merchant-rows.ts';
import type { PageRequest } from '../../db/pagination.ts';
import {
  DISABLED_REASON_MESSAGES,
  disabledReasonOf,
  type MerchantScope,
  type WebhookEndpoint,
  type WebhookEndpointDisabledReason,
  type WebhookEndpointStatus,
} from './webhook-endpoint.types.ts';

/** SQL for webhook endpoints. Every read is scoped to (merchant, mode) and skips soft-deleted rows. */

type WebhookEndpointRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  url: string;
  description: string | null;
  enabled_events: string[];
  status: WebhookEndpointStatus;
  disabled_reason: string | null;
  disabled_at: Date | null;
  previous_secret_expires_at: Date | null;
  api_version: string;
  metadata: Metadata;
  version: number;
  created_at: Date;
  updated_at: Date;
};

const COLUMNS = `id, merchant_id, livemode, url, description, enabled_events, status, disabled_reason, disabled_at,
  previous_secret_expires_at, api_version, metadata, version, created_at, updated_at`;
const WEBHOOK_ENDPOINTS: MerchantOwnedTable = {
  table: 'webhook_endpoints',
  columns: COLUMNS,
  removedColumn: 'deleted_at',
};

function toWebhookEndpoint(row: WebhookEndpointRow): WebhookEndpoint {
  const disabledReason = row.disabled_reason === null ? null : disabledReasonOf(row.disabled_reason);
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    url: row.url,
    description: row.description,
    enabledEvents: row.enabled_events,
    status: row.status,
    disabledReason,
    disabledMessage: disabledReason === null ? null : DISABLED_REASON_MESSAGES[disabledReason],
    disabledAt: row.disabled_at,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    apiVersion: row.api_version,
    metadata: row.metadata,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertWebhookEndpoint(
  db: Queryable,
  endpoint: {
    id: string;
    scope: MerchantScope;
    url: string;
    description: string | null;
    enabledEvents: string[];
    status: WebhookEndpointStatus;
    secretEncrypted: Buffer;
    /** Without one: the merchant's pinned version, else the newest. */
    apiVersion?: string;
    metadata?: Metadata;
  },
): Promise<WebhookEndpoint> {
  const { rows } = await db.query<WebhookEndpointRow>(
    `INSERT INTO webhook_endpoints (id, merchant_id, livemode, url, description, enabled_events, status, secret_encrypted,
                                    api_version, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
             COALESCE($9, (SELECT api_version FROM merchants WHERE id = $2), $10), $11) RETURNING ${COLUMNS}`,
    [
      endpoint.id,
      endpoint.scope.merchantId,
      endpoint.scope.livemode,
      endpoint.url,
      endpoint.description,
      endpoint.enabledEvents,
      endpoint.status,
      endpoint.secretEncrypted,
      endpoint.apiVersion ?? null,
      LATEST_API_VERSION,
      JSON.stringify(endpoint.metadata ?? {}),
    ],
  );
  return toWebhookEndpoint(rows[0]!);
}

export async function findWebhookEndpoint(
  db: Queryable,
  scope: MerchantScope,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<WebhookEndpoint | undefined> {
  const row = await findLiveMerchantRow<WebhookEndpointRow>(db, WEBHOOK_ENDPOINTS, scope, id, options);
  return row && toWebhookEndpoint(row);
}

/** Several endpoints that are not deleted (expansions of a list page); the others are left out. */
export async function findWebhookEndpoints(
  db: Queryable,
  scope: MerchantScope,
  ids: string[],
): Promise<WebhookEndpoint[]> {
  const { rows } = await db.query<WebhookEndpointRow>(
    `SELECT ${COLUMNS} FROM webhook_endpoints
      WHERE id = ANY($1) AND merchant_id = $2 AND livemode = $3 AND deleted_at IS NULL`,
    [ids, scope.merchantId, scope.livemode],
  );
  return rows.map(toWebhookEndpoint);
}

/** A page of endpoints, newest first (`limit + 1` rows: src/db/pagination.ts). */
export async function listWebhookEndpoints(
  db: Queryable,
  scope: MerchantScope,
  page: PageRequest,
): Promise<WebhookEndpoint[]> {
  const rows = await listLiveMerchantRows<WebhookEndpointRow>(db, WEBHOOK_ENDPOINTS, scope, page);
  return rows.map(toWebhookEndpoint);
}

export async function countWebhookEndpoints(db: Queryable, scope: MerchantScope): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM webhook_endpoints
      WHERE merchant_id = $1 AND livemode = $2 AND deleted_at IS NULL`,
    [scope.merchantId, scope.livemode],
  );
  return rows[0]?.count ?? 0;
}

export type WebhookEndpointPatch = {
  url?: string;
  description?: string | null;
  enabledEvents?: string[];
  status?: WebhookEndpointStatus;
  /** Set with status 'disabled'; cleared when the endpoint is enabled again. */
  disabledReason?: WebhookEndpointDisabledReason | null;
  /** The whole new metadata (already merged). */
  metadata?: Metadata;
};

/** Applies a patch to a row the caller has locked, bumping `version`. */
export async function updateWebhookEndpoint(
  db: Queryable,
  id: string,
  patch: WebhookEndpointPatch,
): Promise<WebhookEndpoint> {
  const { rows } = await db.query<WebhookEndpointRow>(
    `UPDATE webhook_endpoints SET
        url = COALESCE($2, url),
        description = CASE WHEN $3::boolean THEN $4 ELSE description END,
        enabled_events = COALESCE($5, enabled_events),
        status = COALESCE($6, status),
        disabled_reason = CASE WHEN $6 = 'enabled' THEN NULL WHEN $6 = 'disabled' AND status = 'enabled' THEN $7 ELSE disabled_reason END,
        disabled_at = CASE WHEN $6 = 'enabled' THEN NULL WHEN $6 = 'disabled' AND status = 'enabled' THEN now() ELSE disabled_at END,
        metadata = COALESCE($8::jsonb, metadata),
        version = version + 1,
        updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      patch.url ?? null,
      patch.description !== undefined,
      patch.description ?? null,
      patch.enabledEvents ?? null,
      patch.status ?? null,
      patch.disabledReason ?? null,
      patch.metadata === undefined ? null : JSON.stringify(patch.metadata),
    ],
  );
  return toWebhookEndpoint(rows[0]!);
}

/**
 * Installs a new secret. The current one becomes the previous secret until `overlapSeconds` from now
 * (0: it stops signing at once); an older previous secret is dropped — at most two secrets ever sign.
 */
export async function replaceWebhookEndpointSecret(
  db: Queryable,
  id: string,
  secretEncrypted: Buffer,
  overlapSeconds: number,
): Promise<WebhookEndpoint> {
  const { rows } = await db.query<WebhookEndpointRow>(
    `UPDATE webhook_endpoints SET
        previous_secret_encrypted = CASE WHEN $3::float8 > 0 THEN secret_encrypted END,
        previous_secret_expires_at = CASE WHEN $3::float8 > 0 THEN now() + make_interval(secs => $3::float8) END,
        secret_encrypted = $2,
        version = version + 1,
        updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, secretEncrypted, overlapSeconds],
  );
  return toWebhookEndpoint(rows[0]!);
}

export async function softDeleteWebhookEndpoint(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE webhook_endpoints SET deleted_at = now(), updated_at = now(), version = version + 1 WHERE id = $1`,
    [id],
  );
}
