// The console's page: tabs by URL hash, one live event stream for status, rebuilds and the lag
// history, and the views in views/. No build step: plain ES modules.
import { fill, follow, h, read, say, token } from './dom.js';
import { renderDeadLetters } from './views/deadLetters.js';
import { renderRebuilds } from './views/rebuilds.js';
import { renderSagas } from './views/sagas.js';
import { renderTopology } from './views/topology.js';
import { renderWorkers } from './views/workers.js';

const live = { status: null, history: [], rebuilds: [] };
const root = document.getElementById('view');
const liveLabel = document.getElementById('live');
const VIEWS = {
  workers: { render: renderWorkers, live: true },
  'dead-letters': { render: renderDeadLetters, live: false },
  sagas: { render: renderSagas, live: false },
  rebuilds: { render: renderRebuilds, live: true },
  topology: { render: renderTopology, live: false },
};

const current = () => (VIEWS[location.hash.slice(1)] ? location.hash.slice(1) : 'workers');

async function show() {
  const name = current();
  for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.dataset.view === name);
  document.body.dataset.view = name;
  try {
    await VIEWS[name].render(root, live);
  } catch (e) {
    if (e.status === 401) askToken();
    fill(root, h('p', { class: 'error' }, e.message));
  }
}

function askToken() {
  const form = document.getElementById('token-form');
  form.hidden = false;
}

document.getElementById('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token.set(document.getElementById('token').value);
  document.getElementById('token-form').hidden = true;
  say('token set for this tab');
  void connect();
  void show();
});

let stream;
async function connect() {
  stream?.abort();
  stream = new AbortController();
  const mine = stream;
  for (;;) {
    try {
      await follow((event, data) => {
        if (event === 'failure') {
          liveLabel.textContent = `status failed: ${data.message}`;
          return;
        }
        Object.assign(live, data);
        liveLabel.textContent = `live · ${new Date().toLocaleTimeString()}`;
        document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
        if (VIEWS[current()].live) void show();
      }, mine.signal);
    } catch (e) {
      if (mine.signal.aborted) return;
      liveLabel.textContent = `disconnected: ${e.message}`;
      if (e.status === 401) return askToken();
    }
    if (mine.signal.aborted) return;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

window.addEventListener('hashchange', () => {
  say('');
  void show();
});
const session = await read('session').catch(() => ({}));
if (session.tokenRequired && !token.get()) askToken();
void connect();
void show();
