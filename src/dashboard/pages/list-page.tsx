/**
 * The parts every numbered list page of the dashboard (orders, checkouts) is made of, so that they look and
 * behave alike: the status filter, a row's status badge and the pager. The filters stay in the URL (`href` of
 * a page), so a link shows the same list.
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
