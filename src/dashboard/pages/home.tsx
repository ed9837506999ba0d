import { AppPage, type Viewer } from '../layout.tsx';
import type { DayFigure, HomeFigures, StatusFigure } from '../queries.ts';
import { money } from './format.ts';
import { ListTable, StatusBadge } from './list-page.tsx';

function FigureTable({ caption, figures }: { caption: string; figures: StatusFigure[] }) {
  return (
    <div class="dash-card">
      <h2 class="dash-card__title">{caption}</h2>
      <ListTable
        headings={['Status', { label: 'Orders', numeric: true }, { label: 'Volume', numeric: true }]}
        rowCount={figures.length}
        emptyText="No orders."
      >
        {figures.map((row) => (
          <tr key={`${row.status}-${row.currency}`}>
            <td>
              <StatusBadge status={row.status} />
            </td>
            <td class="num">{row.count}</td>
            <td class="num">{money(row.volume, row.currency)}</td>
          </tr>
        ))}
      </ListTable>
    </div>
  );
}

const CHART_WIDTH = 600;
const CHART_HEIGHT = 160;

/** Orders per day over 30 days, paid ones darker: an SVG drawn on the server, with the same data as a table. */
function DayChart({ days }: { days: DayFigure[] }) {
  const max = Math.max(1, ...days.map((day) => day.count));
  const slot = CHART_WIDTH / Math.max(1, days.length);
  const bar = Math.max(2, slot - 4);
  const total = days.reduce((sum, day) => sum + day.count, 0);
  return (
    <div class="dash-card">
      <h2 class="dash-card__title" id="chart-title">
        Orders per day, last 30 days
      </h2>
      <svg
        class="dash-chart"
        viewBox={`0 0 ${CHART_WIDTH} ${CHART_HEIGHT + 20}`}
        role="img"
        aria-labelledby="chart-title chart-desc"
      >
        <desc id="chart-desc">{`${total} orders in 30 days; the table below lists each day.`}</desc>
        <line x1="0" y1={CHART_HEIGHT} x2={CHART_WIDTH} y2={CHART_HEIGHT} class="dash-chart__axis" />
        {days.map((day, index) => {
          const height = Math.round((day.count / max) * (CHART_HEIGHT - 10));
          const paidHeight = Math.round((day.paid / max) * (CHART_HEIGHT - 10));
          const x = Math.round(index * slot + 2);
          return (
            <g key={day.day}>
              <title>{`${day.day}: ${day.count} orders, ${day.paid} paid`}</title>
              <rect class="dash-chart__bar" x={x} y={CHART_HEIGHT - height} width={bar} height={height} />
              <rect
                class="dash-chart__bar--paid"
                x={x}
                y={CHART_HEIGHT - paidHeight}
                width={bar}
                height={paidHeight}
              />
            </g>
          );
        })}
        <text x="0" y={CHART_HEIGHT + 16} class="dash-chart__label">
          {days[0]?.day}
        </text>
        <text x={CHART_WIDTH} y={CHART_HEIGHT + 16} text-anchor="end" class="dash-chart__label">
          {days.at(-1)?.day}
        </text>
      </svg>
      <details class="dash-details">
        <summary>Show as a table</summary>
        <ListTable
          headings={['Day', { label: 'Orders', numeric: true }, { label: 'Paid', numeric: true }]}
          rowCount={days.length}
        >
          {days.map((day) => (
            <tr key={day.day}>
              <td>{day.day}</td>
              <td class="num">{day.count}</td>
              <td class="num">{day.paid}</td>
            </tr>
          ))}
        </ListTable>
      </details>
    </div>
  );
}

function Attention({ attention }: { attention: HomeFigures['attention'] }) {
  const items = [
    attention.stuckPayments > 0 &&
      `${attention.stuckPayments} payment(s) stuck in processing for over 5 minutes`,
    attention.pendingRefunds > 0 && `${attention.pendingRefunds} refund(s) still pending at the processor`,
    attention.failingEndpoints > 0 &&
      `${attention.failingEndpoints} webhook endpoint(s) disabled after failing`,
    attention.failedDeliveries > 0 &&
      `${attention.failedDeliveries} webhook delivery(ies) failed in the last 30 days`,
  ].filter((item): item is string => Boolean(item));
  return (
    <div class="dash-card">
      <h2 class="dash-card__title">Needs attention</h2>
      {items.length === 0 ? (
        <p class="dash-muted">Nothing needs attention.</p>
      ) : (
        <ul class="dash-list">
          {items.map((item) => (
            <li key={item}>{item}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function HomePage(props: { nonce: string; viewer: Viewer; figures: HomeFigures }) {
  return (
    <AppPage title="Home" nonce={props.nonce} viewer={props.viewer} section="home">
      <h1 class="dash-title">Home</h1>
      <div class="dash-grid">
        <FigureTable caption="Today" figures={props.figures.today} />
        <FigureTable caption="Last 30 days" figures={props.figures.last30} />
      </div>
      <DayChart days={props.figures.days} />
      <Attention attention={props.figures.attention} />
    </AppPage>
  );
}
