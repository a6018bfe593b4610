// Sign-ins, failures and lockouts per day, and the sessions alive now (GET /api/admin/stats).
import type { AdminClientApi } from '../api.ts';
import type { Stats } from '../types.ts';
import { Loading, useLoad } from '../ui.tsx';

const DAYS = 14;

function Chart(props: { stats: Stats }) {
  const { days } = props.stats;
  const highest = Math.max(1, ...days.map((day) => day.sign_ins + day.failures));
  const width = 28;
  const height = 120;
  return (
    <svg class="chart" viewBox={`0 0 ${days.length * width} ${height + 20}`} role="img" aria-label={`Sign-ins and failures over the last ${DAYS} days`}>
      {days.map((day, index) => {
        const ok = (day.sign_ins / highest) * height;
        const failed = (day.failures / highest) * height;
        return (
          <g key={day.date}>
            <title>{`${day.date}: ${day.sign_ins} sign-ins, ${day.failures} failures, ${day.lockouts} lockouts`}</title>
            <rect class="bar-ok" x={index * width + 4} y={height - ok - failed} width={width - 8} height={ok} />
            <rect class="bar-failed" x={index * width + 4} y={height - failed} width={width - 8} height={failed} />
            <text x={index * width + width / 2} y={height + 14} text-anchor="middle">
              {day.date.slice(8)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export function Dashboard(props: { api: AdminClientApi }) {
  const stats = useLoad(() => props.api.getStats(DAYS));
  const data = stats.data;
  const total = (key: 'sign_ins' | 'failures' | 'lockouts') => data?.days.reduce((sum, day) => sum + day[key], 0) ?? 0;
  return (
    <section>
      <h1>Dashboard</h1>
      <Loading {...stats} />
      {data ? (
        <>
          <ul class="cards">
            <li>
              <strong data-stat="sign-ins">{total('sign_ins')}</strong> sign-ins ({DAYS} days)
            </li>
            <li>
              <strong data-stat="failures">{total('failures')}</strong> failed sign-ins
            </li>
            <li>
              <strong data-stat="lockouts">{total('lockouts')}</strong> lockouts
            </li>
            <li>
              <strong data-stat="sessions">{data.active_sessions}</strong> active sessions
            </li>
          </ul>
          <h2>Sign-ins per day (UTC)</h2>
          <Chart stats={data} />
          <p class="legend">
            <span class="key key-ok" /> succeeded <span class="key key-failed" /> failed
          </p>
        </>
      ) : null}
    </section>
  );
}
