// Rebuilds: start one per projection, follow its progress live (from the event stream), see the swap.
import { act, fill, fmtTime, h, say, table } from '../dom.js';

async function start(name) {
  try {
    await act(`rebuilds/${encodeURIComponent(name)}`);
    say(`rebuild of ${name} started`);
  } catch (e) {
    say(`rebuild ${name}: ${e.message}`, 'error');
  }
}

function progressCell(r) {
  if (r.state === 'failed') return h('span', { class: 'state failed' }, `failed: ${r.error}`);
  if (r.state === 'swapped')
    return h(
      'span',
      { class: 'state running' },
      `swapped in at ${r.result.checkpoint}: ${r.result.applied} events in ${(r.result.ms / 1000).toFixed(1)} s`,
    );
  const p = r.progress;
  if (!p) return 'starting…';
  return h(
    'span',
    {},
    h('progress', { max: Math.max(1, p.target), value: p.checkpoint }),
    ` ${p.phase}: ${p.checkpoint} of ${p.target}, ${p.eventsPerSecond}/s`,
  );
}

export function renderRebuilds(root, live) {
  const projections = live.status?.projections ?? [];
  const rebuilds = live.rebuilds ?? [];
  const byName = new Map(rebuilds.map((r) => [r.projection, r]));
  fill(
    root,
    h(
      'p',
      { class: 'muted' },
      'A rebuild replays the stream into a new model beside the live one and swaps it in; the live model answers until the swap.',
    ),
    table(
      ['projection', 'state', 'checkpoint', 'rebuild', 'started', ''],
      projections.map((w) => {
        const r = byName.get(w.name);
        return h(
          'tr',
          { dataset: { rebuild: w.name } },
          h('td', {}, w.name),
          h('td', {}, w.state),
          h('td', { class: 'num' }, w.checkpoint),
          h('td', { 'data-col': 'progress' }, r ? progressCell(r) : '-'),
          h('td', {}, r ? fmtTime(r.startedAt) : '-'),
          h(
            'td',
            {},
            h(
              'button',
              { onclick: () => start(w.name), disabled: r?.state === 'running', 'data-action': 'rebuild' },
              'Rebuild',
            ),
          ),
        );
      }),
    ),
  );
}
