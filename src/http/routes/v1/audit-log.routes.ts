import { z } from 'zod';
import { presentAuditEntry } from '../../../modules/audit/audit.presenter.ts';
import { listAuditEntries } from '../../../modules/audit/audit.service.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';

/**
 * `GET /v1/audit-log`: the caller's merchant's audit trail, newest first (docs/security.md, "Audit trail").
 * Read-only (entries are written by the changes they record); scope `merchant:read`. A test-mode credential
 * does not see entries about live-mode objects.
 */

export const ZAuditLogEntry = z
  .object({
    id: z.string(),
    object: z.literal('audit_log_entry'),
    action: z.string().describe('Dotted, e.g. `api_key.created`, `signing_secret.rolled`, `user.signed_in`'),
    actor: z
      .object({
        type: z.enum(['credential', 'user', 'system']),
        id: z.string().describe('The API key or OAuth client, the dashboard user, or the command or worker'),
        label: z.string().nullable().describe("A user's e-mail, or the operating-system user of a command"),
      })
      .describe('Who acted'),
    object_type: z.string().nullable(),
    object_id: z.string().nullable(),
    client_address: z
      .string()
      .nullable()
      .describe('The address the request came from (after trusted proxies)'),
    details: z.record(z.string(), z.unknown()).describe('What changed; never a secret'),
    created_at: z.string(),
  })
  .meta({ id: 'AuditLogEntry' });

const ZAuditLogQuery = ZListQuery.extend({
  action: z
    .string()
    .max(100)
    .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$/)
    .optional()
    .describe('Only this action (`api_key.revoked`), or a family of them (`api_key.*`)'),
  object_id: z.string().max(100).optional().describe('Only entries about this object'),
}).strict();

export function registerAuditLogRoutes(app: KassaApp, services: Pick<Services, 'db'>) {
  app.get(
    '/v1/audit-log',
    {
      config: { auth: 'merchant', scope: 'merchant' },
      schema: {
        tags: ['Merchant'],
        summary: 'The audit trail: credential changes, secret rotations, dashboard sign-ins; newest first',
        querystring: ZAuditLogQuery,
        response: { 200: ZPage(ZAuditLogEntry) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const { action, object_id: objectId } = request.query;
      const page = toPageRequest(request.query);
      const rows = await listAuditEntries(services.db, principal.merchantId, page, {
        action,
        objectId,
        testModeOnly: !principal.livemode,
      });
      return toPage(rows, page, presentAuditEntry, (entry) => entry.id);
    },
  );
}
