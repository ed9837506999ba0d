import type { ComponentChildren } from 'preact';
import { CsrfField, FORM_KEY_FIELD } from '../layout.tsx';

/**
 * The parts every list page of the dashboard (orders, checkouts, API keys, the team) is made of, so that they
 * look and behave alike: the status filter, a row's status badge, the pager, the table and the card that
 * creates one more. The filters stay in the URL (`href` of a page), so a link shows the same list.
 */

/** A filter form's choice: "Any" (or `anyLabel`) or one of `options`; the value stays in the URL. */
export function SelectFilter(props: {
  id: string;
  name: string;
  label: string;
  anyLabel?: string;
  options: readonly { value: string; label: string }[];
  selected: string | undefined;
}) {
  return (
    <div class="field">
      <label class="field__label" for={props.id}>
        {props.label}
      </label>
      <select class="field__input" id={props.id} name={props.name}>
        <option value="">{props.anyLabel ?? 'Any'}</option>
        {props.options.map((option) => (
          <option key={option.value} value={option.value} selected={props.selected === option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The filter form's status field: "Any" or one of the aggregate's statuses. */
export function StatusFilter(props: { statuses: readonly string[]; selected: string | undefined }) {
  const options = props.statuses.map((status) => ({ value: status, label: status }));
  return (
    <SelectFilter id="status" name="status" label="Status" options={options} selected={props.selected} />
  );
}

export function StatusBadge(props: { status: string }) {
  return <span class={`dash-status dash-status--${props.status.toLowerCase()}`}>{props.status}</span>;
}

/** Previous page, this page's number, next page (when there is more). */
export function NumberedPager(props: { page: number; hasMore: boolean; href: (page: number) => string }) {
  return (
    <nav class="dash-pager" aria-label="Pages">
      {props.page > 1 && (
        <a class="dash-link" href={props.href(props.page - 1)} rel="prev">
          Previous page
        </a>
      )}
      <span class="dash-muted">Page {props.page}</span>
      {props.hasMore && (
        <a class="dash-link" href={props.href(props.page + 1)} rel="next">
          Next page
        </a>
      )}
    </nav>
  );
}

/** A column heading; a numeric column (amounts, counts) is aligned right. */
export type Heading = string | { label: string; numeric: true };

/**
 * A dashboard list as a table: one `th scope="col"` a heading (a `false` heading is a column this viewer does
 * not get, such as Actions without the write role), or `emptyText` instead of the table when there are no
 * rows. Every list of the dashboard is this table, so they read alike to a screen reader.
 */
export function ListTable(props: {
  headings: readonly (Heading | false)[];
  rowCount: number;
  /** Shown instead of an empty table; a list that always has a row (the team's people) leaves it out. */
  emptyText?: string;
  /** The list answers a search (filters in the URL): its empty text is announced as the search's result. */
  searchResult?: boolean;
  /** Read by screen readers only, before the table: what the rows are and their order. */
  caption?: string;
  /** A modifier class of the table (its own column rules for small screens). */
  modifier?: string;
  children: ComponentChildren;
}) {
  if (props.rowCount === 0 && props.emptyText !== undefined) {
    return (
      <p class="dash-muted" role={props.searchResult ? 'status' : undefined}>
        {props.emptyText}
      </p>
    );
  }
  return (
    <div class="dash-table-wrap">
      <table class={props.modifier ? `dash-table ${props.modifier}` : 'dash-table'}>
        {props.caption && <caption class="visually-hidden">{props.caption}</caption>}
        <thead>
          <tr>
            {props.headings
              .filter((heading) => heading !== false)
              .map((heading) =>
                typeof heading === 'string' ? (
                  <th key={heading} scope="col">
                    {heading}
                  </th>
                ) : (
                  <th key={heading.label} scope="col" class="num">
                    {heading.label}
                  </th>
                ),
              )}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/**
 * The card under a list that creates one more of it (an API key, an OAuth client, an invitation): a POST form
 * with the CSRF field and the form key that makes a resubmitted form create nothing twice.
 */
export function CreateFormCard(props: {
  title: string;
  action: string;
  csrfToken: string;
  formKey: string;
  submitLabel: string;
  children: ComponentChildren;
}) {
  return (
    <section class="dash-card">
      <h2 class="dash-card__title">{props.title}</h2>
      <form class="dash-form" method="post" action={props.action}>
        <CsrfField token={props.csrfToken} />
        <input type="hidden" name={FORM_KEY_FIELD} value={props.formKey} />
        {props.children}
        <button class="button button--primary dash-button" type="submit">
          {props.submitLabel}
        </button>
      </form>
    </section>
  );
}
