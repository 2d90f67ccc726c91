// Dead letters per worker: subject, sequence, reason, the body (as text only), the events waiting
// behind each, and retry/skip with their outcome.
import { act, fill, fmtTime, h, read, say } from '../dom.js';

function describe(verb, r) {
  if (verb === 'skip') {
    const rel = r.released ?? {};
    return `skipped dead letter ${r.seq} of ${r.worker} via ${r.via}; released ${rel.applied ?? 0} applied, ${rel.deadLettered ?? 0} dead-lettered`;
  }
  const applied = r.outcomes.filter((o) => o.applied).length;
  const again = r.outcomes.filter((o) => !o.applied).map((o) => ` #${o.seq}: ${o.reason}`);
  return `retried ${r.outcomes.length} via ${r.via}: ${applied} applied, ${again.length} dead-lettered again${again.join(';')}`;
}

async function run(verb, d, refresh) {
  try {
    const r = await act(`dead-letters/${encodeURIComponent(d.worker)}/${d.seq}/${verb}`);
    say(describe(verb, r));
  } catch (e) {
    say(`${verb} ${d.worker} #${d.seq}: ${e.message}`, 'error');
  }
  await refresh();
}

function card(d, refresh) {
  return h(
    'section',
    { class: 'card', dataset: { deadLetter: `${d.worker}:${d.seq}` } },
    h(
      'header',
      {},
      h('strong', {}, `#${d.seq}`),
      h('span', { 'data-field': 'subject' }, d.subject),
      h('span', { class: 'muted' }, fmtTime(d.time)),
      h('button', { onclick: () => run('retry', d, refresh), 'data-action': 'retry' }, 'Retry'),
      h('button', { onclick: () => run('skip', d, refresh), 'data-action': 'skip' }, 'Skip'),
    ),
    h('div', { 'data-field': 'reason' }, 'reason: ', d.reason),
    h(
      'div',
      { class: 'muted' },
      `body: ${d.body.encoding}, ${d.body.bytes} bytes${d.body.truncated ? ' (cut)' : ''}`,
    ),
    h('pre', { 'data-field': 'body' }, d.body.text),
    h(
      'div',
      { 'data-field': 'waiting' },
      `${d.waiting} event${d.waiting === 1 ? '' : 's'} waiting behind it`,
      d.waitingEvents.length > 0
        ? `: ${d.waitingEvents.map((w) => `#${w.seq} ${w.subject}`).join(', ')}`
        : '',
    ),
  );
}

export async function renderDeadLetters(root) {
  const refresh = () => renderDeadLetters(root);
  const list = await read('dead-letters');
  if (list.length === 0)
    return fill(
      root,
      h('p', { id: 'no-dead-letters' }, 'No dead letters.'),
      h('button', { onclick: refresh }, 'Refresh'),
    );
  const byWorker = new Map();
  for (const d of list) byWorker.set(d.worker, [...(byWorker.get(d.worker) ?? []), d]);
  fill(
    root,
    h('button', { onclick: refresh }, 'Refresh'),
    [...byWorker].map(([worker, letters]) => [
      h('h2', {}, `${worker} (${letters.length})`),
      letters.map((d) => card(d, refresh)),
    ]),
  );
}
