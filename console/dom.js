// The page's small toolkit. Text from the server only ever goes into text nodes (h's string
// children and textContent): nothing it holds, a dead letter's body least of all, is parsed as HTML.

/** An element with attributes (`on*` are listeners) and children (strings become text nodes). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Number.POSITIVE_INFINITY)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table from a header row and rows of cells (strings, numbers or nodes). */
export function table(head, rows, attrs = {}) {
  return h(
    'table',
    attrs,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        head.map((c) => h('th', {}, c)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

const TOKEN_KEY = 'prosa-console-token';
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
};

/** Headers every call carries: the token when there is one; actions add the console's header. */
function headers(action) {
  const out = {};
  const t = token.get();
  if (t) out.authorization = `Bearer ${t}`;
  if (action) {
    out['x-prosa-console'] = '1';
    out['content-type'] = 'application/json';
  }
  return out;
}

/** GET /api/<path>: the JSON, or throws with the server's message. */
export async function read(path) {
  const res = await fetch(`/api/${path}`, { headers: headers(false) });
  return answer(res);
}

/** POST /api/<path> with a JSON body: the JSON, or throws with the server's message. */
export async function act(path, body = {}) {
  const res = await fetch(`/api/${path}`, {
    method: 'POST',
    headers: headers(true),
    body: JSON.stringify(body),
  });
  return answer(res);
}

async function answer(res) {
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = new Error(body.error ?? `HTTP ${res.status}`);
    e.status = res.status;
    throw e;
  }
  return body;
}

/** Follows /api/events (server-sent events, read with fetch so the token can go along). */
export async function follow(onEvent, signal) {
  const res = await fetch('/api/events', { headers: headers(false), signal });
  if (!res.ok || !res.body)
    throw Object.assign(new Error(`live view: HTTP ${res.status}`), { status: res.status });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data) onEvent(event, JSON.parse(data));
      end = buffer.indexOf('\n\n');
    }
  }
}

/** Shows the outcome of an action (or a failure) in the message line. */
export function say(text, kind = 'ok') {
  const el = document.getElementById('message');
  el.className = kind;
  el.textContent = text;
}

export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '-');
