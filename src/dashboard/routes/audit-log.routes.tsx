import type { KassaApp } from '../../http/http.types.ts';
import { listAuditEntries } from '../../modules/audit/audit.service.ts';
import { roleSeesTeam } from '../../modules/users/permissions.ts';
import { listUsers } from '../../modules/users/users.ts';
import { DashboardRefusal, PAGE, queryText, type DashboardKit } from '../kit.tsx';
import { AuditLogPage, type AuditLogFilters } from '../pages/audit-log.tsx';

const PAGE_SIZE = 50;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$/;
const ID = /^[A-Za-z0-9_]{1,64}$/;

function dayStart(text: string | undefined): Date | undefined {
  if (!text || !DATE.test(text)) return undefined;
  const date = new Date(`${text}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function hrefOf(filters: AuditLogFilters, after?: string): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  if (after) query.set('after', after);
  const text = query.toString();
  return text ? `/dashboard/audit-log?${text}` : '/dashboard/audit-log';
}

/**
 * The shop's audit log (src/modules/audit/, the same entries `GET /v1/audit-log` answers): sign-ins, failures
 * and locks, team and credential changes, money movements; filtered by action, person and dates in the URL,
 * newest first, 50 a page. Scoped by mode like the API: a test-mode session does not see live-mode objects.
 */
export function registerAuditLogRoutes(scope: KassaApp, kit: DashboardKit) {
  const { db, sendPage, pageContext } = kit;

  scope.get('/dashboard/audit-log', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const context = await pageContext(request, reply);
    if (!context) return reply;
    if (!roleSeesTeam(context.session.user.role))
      throw new DashboardRefusal(
        403,
        'Not allowed',
        `Your role (${context.session.user.role}) may not see the audit log (it needs users:read).`,
      );
    const action = queryText(request, 'action')?.trim();
    const user = queryText(request, 'user');
    const from = queryText(request, 'from');
    const to = queryText(request, 'to');
    const after = queryText(request, 'after');
    const filters: AuditLogFilters = {
      action: action && action.length <= 100 && ACTION.test(action) ? action : undefined,
      user: user && ID.test(user) ? user : undefined,
      from: dayStart(from) ? from : undefined,
      to: dayStart(to) ? to : undefined,
    };
    const toDay = dayStart(filters.to);
    const rows = await listAuditEntries(
      db,
      context.scope.merchantId,
      { limit: PAGE_SIZE, startingAfter: after && ID.test(after) ? after : undefined },
      {
        action: filters.action,
        actorId: filters.user,
        createdFrom: dayStart(filters.from),
        createdBefore: toDay && new Date(toDay.getTime() + 86_400_000),
        testModeOnly: !context.scope.livemode,
      },
    );
    const entries = rows.slice(0, PAGE_SIZE);
    const people = (await listUsers(db, context.scope.merchantId)).map(({ id, email }) => ({ id, email }));
    return sendPage(reply, 200, (nonce) => (
      <AuditLogPage
        nonce={nonce}
        viewer={context.viewer}
        entries={entries}
        filters={filters}
        people={people}
        olderHref={rows.length > PAGE_SIZE ? hrefOf(filters, entries.at(-1)!.id) : undefined}
        newestHref={after ? hrefOf(filters) : undefined}
        error={
          action && !filters.action ? 'The action filter was not understood and is not applied.' : undefined
        }
      />
    ));
  });
}
