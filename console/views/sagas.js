// Sagas: instances by state, pending timers (with cancel) and the outbox, one saga at a time.
import { act, fill, fmtTime, h, read, say, table } from '../dom.js';

let chosen;

async function cancel(saga, t, refresh) {
  try {
    const r = await act(`sagas/${encodeURIComponent(saga)}/cancel-timeout`, {
      instance: t.instance,
      timeout: t.name,
    });
    say(`${r.worker}: ${r.detail}`);
  } catch (e) {
    say(`cancel ${t.name} of ${t.instance}: ${e.message}`, 'error');
  }
  await refresh();
}

const stateText = (s) => (typeof s === 'string' ? s : JSON.stringify(s));

export async function renderSagas(root, live) {
  // Opened straight on this view, the live status may not have come yet: ask for it.
  const status = live.status ?? (await read('status'));
  const sagas = status.sagas.map((s) => s.name);
  if (sagas.length === 0) return fill(root, h('p', { class: 'muted' }, 'No sagas are configured.'));
  if (!sagas.includes(chosen)) chosen = sagas[0];
  const refresh = () => renderSagas(root, live);
  const v = await read(`sagas/${encodeURIComponent(chosen)}`);
  const picker = h(
    'select',
    {
      onchange: (e) => {
        chosen = e.target.value;
        void refresh();
      },
    },
    sagas.map((s) => h('option', { value: s, selected: s === chosen }, s)),
  );
  const states = Object.entries(v.byState);
  fill(
    root,
    h(
      'div',
      { class: 'toolbar' },
      h('label', {}, 'Saga ', picker),
      h('button', { onclick: refresh }, 'Refresh'),
    ),
    h('h2', {}, `Instances by state (${v.instanceCount})`),
    states.length === 0
      ? h('p', { class: 'muted' }, 'No live instances.')
      : table(
          ['state', 'instances'],
          states.map(([s, c]) => h('tr', {}, h('td', {}, s), h('td', { class: 'num' }, c))),
        ),
    h(
      'h2',
      {},
      `Timers (${v.timerCount}${v.timerCount > v.timers.length ? `, the first ${v.timers.length} due shown` : ''})`,
    ),
    v.timers.length === 0
      ? h('p', { class: 'muted' }, 'No pending timers.')
      : table(
          ['instance', 'timer', 'due', ''],
          v.timers.map((t) =>
            h(
              'tr',
              { dataset: { timer: `${t.instance}:${t.name}` } },
              h('td', {}, t.instance),
              h('td', {}, t.name),
              h('td', {}, fmtTime(t.dueAt)),
              h(
                'td',
                {},
                h('button', { onclick: () => cancel(chosen, t, refresh), 'data-action': 'cancel' }, 'Cancel'),
              ),
            ),
          ),
        ),
    h(
      'h2',
      {},
      v.instanceCount > v.instances.length ? `Instances (the first ${v.instances.length})` : 'Instances',
    ),
    v.instances.length === 0
      ? null
      : table(
          ['instance', 'state', 'updated'],
          v.instances.map((i) =>
            h(
              'tr',
              {},
              h('td', {}, i.instance),
              h('td', {}, stateText(i.state)),
              h('td', {}, fmtTime(i.updatedAt)),
            ),
          ),
        ),
    h('h2', {}, `Outbox (${v.outbox.length})`),
    v.outbox.length === 0
      ? h('p', { class: 'muted' }, 'No commands.')
      : table(
          ['command', 'instance', 'subject', 'created', 'published'],
          v.outbox.map((o) =>
            h(
              'tr',
              {},
              h('td', {}, o.commandId),
              h('td', {}, o.instance),
              h('td', {}, o.subject),
              h('td', {}, fmtTime(o.createdAt)),
              h('td', {}, o.publishedAt ? fmtTime(o.publishedAt) : 'pending'),
            ),
          ),
        ),
  );
}
