// Topology: the read model as a graph (cytoscape), resources, networks and connections, active and
// removed, from the same view as `prosa topology`; a search highlights what matches.
import cytoscape from '/console/vendor/cytoscape.mjs';
import { fill, h, read } from '../dom.js';

let cy;

function elements({ view, removed }) {
  const nodes = [];
  const edges = [];
  const ids = new Set();
  const node = (id, data) => {
    ids.add(id);
    nodes.push({ data: { id, ...data } });
  };
  for (const r of view.resources)
    node(`r:${r.id}`, { kind: 'resource', active: 1, label: r.hostname ?? r.id, info: r });
  for (const r of removed.resources)
    node(`r:${r.id}`, { kind: 'resource', active: 0, label: r.hostname ?? r.id, info: r });
  for (const n of view.networks)
    node(`n:${n.id}`, { kind: 'network', active: 1, label: n.name ?? n.cidrV4 ?? n.id, info: n });
  for (const n of removed.networks)
    node(`n:${n.id}`, { kind: 'network', active: 0, label: n.name ?? n.cidrV4 ?? n.id, info: n });
  const edge = (c, active) => {
    for (const end of [c.source, c.target])
      if (!ids.has(`r:${end}`))
        node(`r:${end}`, {
          kind: 'resource',
          active: 0,
          label: `${end} (not in the model)`,
          info: { id: end },
        });
    edges.push({
      data: {
        id: `c:${c.id}`,
        source: `r:${c.source}`,
        target: `r:${c.target}`,
        kind: 'connection',
        active,
        info: c,
      },
    });
  };
  for (const c of view.connections) edge(c, 1);
  for (const c of removed.connections) edge(c, 0);
  for (const a of view.attachments)
    edges.push({
      data: {
        id: `a:${a.interface}`,
        source: `r:${a.resource}`,
        target: `n:${a.network}`,
        kind: 'attachment',
        active: 1,
        info: a,
      },
    });
  return [...nodes, ...edges];
}

const STYLE = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-size': 9,
      'text-valign': 'bottom',
      'text-margin-y': 3,
      color: '#1d2330',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.75,
      'min-zoomed-font-size': 7,
    },
  },
  {
    selector: 'node[kind = "resource"]',
    style: { shape: 'round-rectangle', 'background-color': '#6ea8fe', width: 22, height: 16 },
  },
  {
    selector: 'node[kind = "network"]',
    style: { shape: 'hexagon', 'background-color': '#75b798', width: 26, height: 24 },
  },
  {
    selector: 'node[active = 0]',
    style: {
      'background-color': '#dee2e6',
      'border-width': 1,
      'border-style': 'dashed',
      'border-color': '#6c757d',
      color: '#6c757d',
    },
  },
  { selector: 'edge[kind = "connection"]', style: { width: 2, 'line-color': '#495057' } },
  {
    selector: 'edge[kind = "attachment"]',
    style: { width: 1, 'line-color': '#75b798', 'line-style': 'dotted' },
  },
  { selector: 'edge[active = 0]', style: { 'line-style': 'dashed', 'line-color': '#adb5bd' } },
  { selector: '.faded', style: { opacity: 0.15 } },
  { selector: '.match', style: { 'border-width': 3, 'border-color': '#d63384', 'border-style': 'solid' } },
];

function details(el, data) {
  const info = data.info ?? {};
  fill(
    el,
    h('strong', {}, `${data.active ? '' : 'removed '}${data.kind}`),
    h('pre', { 'data-field': 'details' }, JSON.stringify(info, null, 2)),
  );
}

export async function renderTopology(root) {
  const data = await read('topology');
  const { counts } = data.view;
  const panel = h(
    'div',
    { id: 'details', class: 'card' },
    h('span', { class: 'muted' }, 'Click a node or an edge, or search.'),
  );
  const found = h('span', { id: 'matches', class: 'muted' });
  const search = h('input', {
    id: 'search',
    type: 'search',
    placeholder: 'hostname, id, network, CIDR…',
    size: 32,
  });
  const graph = h('div', { id: 'graph' });
  fill(
    root,
    h(
      'div',
      { class: 'toolbar' },
      search,
      found,
      h(
        'span',
        { class: 'muted' },
        `${counts.computeResources.active} of ${counts.computeResources.total} resources active, ${counts.networks.active} of ${counts.networks.total} networks, ${counts.connections.active} of ${counts.connections.total} connections`,
      ),
    ),
    graph,
    panel,
  );
  cy?.destroy();
  cy = cytoscape({
    container: graph,
    elements: elements(data),
    style: STYLE,
    layout: {
      name: 'cose',
      animate: false,
      randomize: false,
      idealEdgeLength: () => 90,
      nodeRepulsion: () => 16_000,
      componentSpacing: 80,
    },
    maxZoom: 2.5,
    minZoom: 0.1,
    wheelSensitivity: 0.3,
  });
  graph.dataset.resources = String(cy.nodes('[kind = "resource"][active = 1]').length);
  graph.dataset.removedResources = String(cy.nodes('[kind = "resource"][active = 0]').length);
  graph.dataset.networks = String(cy.nodes('[kind = "network"]').length);
  graph.dataset.connections = String(cy.edges('[kind = "connection"]').length);
  cy.on('tap', 'node, edge', (e) => details(panel, e.target.data()));
  search.addEventListener('input', () => {
    const q = search.value.trim().toLowerCase();
    cy.elements().removeClass('faded match');
    if (!q) {
      cy.fit(undefined, 30);
      return fill(found);
    }
    const hits = cy
      .nodes()
      .filter((n) => `${n.data('label')} ${JSON.stringify(n.data('info'))}`.toLowerCase().includes(q));
    cy.elements().not(hits).not(hits.connectedEdges()).addClass('faded');
    hits.addClass('match');
    fill(found, `${hits.length} match${hits.length === 1 ? '' : 'es'}`);
    if (hits.length > 0) {
      cy.fit(hits, 60);
      details(panel, hits[0].data());
    }
  });
}
