// Workers: one row each, live from the event stream, with a lag chart and pause/resume.
import { act, fill, h, say, table } from '../dom.js';

const SVG = 'http://www.w3.org/2000/svg';

/** A sparkline of a worker's lag over the samples kept (the last minutes). */
function sparkline(history, name) {
  const values = history.map((s) => s.lag[name] ?? 0);
  const w = 120;
  const hgt = 24;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', w);
  svg.setAttribute('height', hgt);
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  if (values.length > 1) {
    const max = Math.max(1, ...values);
    const step = w / (values.length - 1);
    const points = values.map(
      (v, i) => `${(i * step).toFixed(1)},${(hgt - 2 - (v / max) * (hgt - 4)).toFixed(1)}`,
    );
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', points.join(' '));
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', '#0d6efd');
    line.setAttribute('stroke-width', '1.5');
    svg.append(line);
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `lag over the last ${values.length} refreshes, highest ${max}`;
    svg.append(title);
  }
  return svg;
}

async function toggle(w) {
  const verb = w.state === 'paused' ? 'resume' : 'pause';
  try {
    const r = await act(`workers/${encodeURIComponent(w.name)}/${verb}`);
    say(`${r.worker}: ${r.detail} (via ${r.via})`);
  } catch (e) {
    say(`${verb} ${w.name}: ${e.message}`, 'error');
  }
}

const n = (v) => (v === null || v === undefined ? '-' : String(v));

function row(w, history) {
  const cls = `state ${String(w.state).replace(/\s+/g, '-')}`;
  return h(
    'tr',
    { dataset: { worker: w.name } },
    h('td', { 'data-col': 'name' }, w.name),
    h('td', { 'data-col': 'kind' }, w.kind),
    h(
      'td',
      { 'data-col': 'state' },
      h('span', { class: cls }, w.state),
      w.detail ? h('div', { class: 'muted' }, w.detail) : null,
    ),
    h('td', { class: 'num', 'data-col': 'checkpoint' }, n(w.checkpoint)),
    h('td', { class: 'num', 'data-col': 'streamLastSeq' }, n(w.streamLastSeq)),
    h('td', { class: 'num', 'data-col': 'lag' }, h('span', {}, n(w.lag)), sparkline(history, w.name)),
    h('td', { class: 'num', 'data-col': 'eventsPerSecond' }, n(w.eventsPerSecond)),
    h('td', { class: 'num', 'data-col': 'liveActors' }, n(w.liveActors)),
    h('td', { class: 'num', 'data-col': 'deadLettered' }, n(w.deadLettered)),
    h('td', { class: 'num', 'data-col': 'waiting' }, n(w.waiting)),
    h(
      'td',
      {},
      w.state === 'never run' || w.state === 'stopped'
        ? null
        : h(
            'button',
            { onclick: () => toggle(w), 'data-action': w.state === 'paused' ? 'resume' : 'pause' },
            w.state === 'paused' ? 'Resume' : 'Pause',
          ),
    ),
  );
}

export function renderWorkers(root, live) {
  if (!live.status) return fill(root, h('p', { class: 'muted' }, 'waiting for the first status…'));
  const { status, history } = live;
  const head = [
    'worker',
    'kind',
    'state',
    'checkpoint',
    'stream head',
    'lag',
    'events/s',
    'live actors',
    'dead letters',
    'waiting',
    '',
  ];
  const db = status.database;
  fill(
    root,
    h('h2', {}, 'Projections'),
    table(
      head,
      status.projections.map((w) => row(w, history)),
      { id: 'projections' },
    ),
    h('h2', {}, 'Sagas'),
    table(
      head,
      status.sagas.map((w) => row(w, history)),
      { id: 'sagas-table' },
    ),
    db
      ? h(
          'p',
          { class: 'muted' },
          `SQLite ${db.path}: ${Math.round((db.bytes + db.walBytes) / 1024)} KiB (with its WAL)`,
        )
      : null,
  );
}
