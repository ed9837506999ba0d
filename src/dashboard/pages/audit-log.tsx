import type { StoredAuditEntry } from '../../modules/audit/audit.service.ts';
import { AppPage, Notice, type Viewer } from '../layout.tsx';
import { dateTime } from './format.ts';
import { ListTable, SelectFilter } from './list-page.tsx';

export type AuditLogFilters = { action?: string; user?: string; from?: string; to?: string };

function actorText(entry: StoredAuditEntry, names: ReadonlyMap<string, string>): string {
  if (entry.actor.type === 'user') return names.get(entry.actor.id) ?? entry.actor.label ?? entry.actor.id;
  if (entry.actor.type === 'credential') return `API credential ${entry.actor.label ?? entry.actor.id}`;
  return entry.actor.label ? `${entry.actor.id} (${entry.actor.label})` : entry.actor.id;
}

function detailsText(details: Record<string, unknown>): string {
  const entries = Object.entries(details);
  return entries.length === 0
    ? ''
    : entries.map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join(', ');
}

/** The audit log of the shop: who did what, to which object, from which address, and when. */
export function AuditLogPage(props: {
  nonce: string;
  viewer: Viewer;
  entries: StoredAuditEntry[];
  filters: AuditLogFilters;
  people: { id: string; email: string }[];
  olderHref?: string;
  newestHref?: string;
  error?: string;
}) {
  const names = new Map(props.people.map((person) => [person.id, person.email]));
  const { filters } = props;
  return (
    <AppPage title="Audit log" nonce={props.nonce} viewer={props.viewer} section="audit-log">
      <h1 class="dash-title">Audit log</h1>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <form class="dash-filters" method="get" action="/dashboard/audit-log">
        <div class="field">
          <label class="field__label" for="audit-action">
            Action
          </label>
          <input
            class="field__input"
            id="audit-action"
            name="action"
            value={filters.action ?? ''}
            placeholder="user.* or api_key.created"
            aria-describedby="audit-action-hint"
          />
          <span class="field__hint" id="audit-action-hint">
            An action, or its first part with .* (user.*).
          </span>
        </div>
        <SelectFilter
          id="audit-user"
          name="user"
          label="Person"
          anyLabel="Anyone"
          options={props.people.map((person) => ({ value: person.id, label: person.email }))}
          selected={filters.user}
        />
        <div class="field">
          <label class="field__label" for="audit-from">
            From
          </label>
          <input class="field__input" id="audit-from" name="from" type="date" value={filters.from ?? ''} />
        </div>
        <div class="field">
          <label class="field__label" for="audit-to">
            To
          </label>
          <input class="field__input" id="audit-to" name="to" type="date" value={filters.to ?? ''} />
        </div>
        <div class="dash-filters__actions">
          <button class="button button--primary dash-button" type="submit">
            Filter
          </button>
          <a class="dash-link" href="/dashboard/audit-log">
            Clear
          </a>
        </div>
      </form>
      <section class="dash-card">
        <ListTable
          headings={['Time', 'Who', 'Action', 'Object', 'Address']}
          rowCount={props.entries.length}
          emptyText="No entries."
          caption="Audit entries, newest first"
        >
          {props.entries.map((entry) => (
            <tr key={entry.id}>
              <td>{dateTime(entry.createdAt)}</td>
              <td>{actorText(entry, names)}</td>
              <td>
                <span class="dash-code">{entry.action}</span>
                {Object.keys(entry.details).length > 0 && (
                  <div class="dash-muted">{detailsText(entry.details)}</div>
                )}
              </td>
              <td class="dash-code">{entry.objectId ?? ''}</td>
              <td class="dash-code">{entry.clientAddress ?? ''}</td>
            </tr>
          ))}
        </ListTable>
        <nav class="dash-pager" aria-label="Pages">
          {props.newestHref && <a href={props.newestHref}>Newest</a>}
          {props.olderHref && <a href={props.olderHref}>Older entries</a>}
        </nav>
      </section>
    </AppPage>
  );
}
