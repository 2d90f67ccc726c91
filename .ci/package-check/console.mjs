// The console from the installed package: the page, its modules, cytoscape from node_modules, and
// the API answering with the running worker. argv[2]: the base URL (http://127.0.0.1:<port>).
import assert from 'node:assert/strict';

const base = process.argv[2];
const get = async (path) => {
  const res = await fetch(`${base}${path}`);
  assert.equal(res.status, 200, `GET ${path}: ${res.status}`);
  return res.text();
};
assert.match(await get('/'), /<title>prosa console<\/title>/);
for (const path of ['/console/app.js', '/console/dom.js', '/console/views/topology.js', '/console/style.css'])
  await get(path);
const cytoscape = await get('/console/vendor/cytoscape.mjs');
assert.ok(cytoscape.length > 100_000, 'cytoscape module served from node_modules');
const status = JSON.parse(await get('/api/status'));
assert.ok(
  status.projections.some((p) => p.name === 'tallies' && p.state === 'running'),
  'tallies runs',
);
console.log(
  `console ok at ${base}/ (page, modules, cytoscape ${Math.round(cytoscape.length / 1024)} KiB, API)`,
);
