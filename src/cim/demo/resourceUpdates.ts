/** Resources change in place: re-tagged, resized, renamed, swept, re-imaged. */
import { formatTimestamp } from '../envelope.js';
import { DOMAIN } from './catalogue.js';
import { register } from './changes.js';
import { provisionHost } from './provisioning.js';
import { type Step, step } from './step.js';
import type { World } from './world.js';

export function* updateResource(w: World): Generator<Step> {
  const { rnd } = w;
  const m = w.live.pick(rnd, (x) => x.role !== 'spine');
  if (!m) return yield* provisionHost(w);
  const kind = rnd.int(10);
  const metadata = { ...m.capabilities.metadata };
  if (kind < 4) {
    // Re-tagged: the whole metadata is replaced (the crate replaces, it does not merge).
    metadata.last_maintenance = formatTimestamp(w.nowMs() - rnd.int(90) * 86_400_000).slice(0, 10);
    if (m.type === 'Physical') metadata.bios = rnd.pick(['2.3.1', '2.4.0', '2.5.2']);
    if (rnd.chance(0.3)) delete metadata.image;
    m.capabilities.metadata = metadata;
    yield step('ResourceUpdated', {
      resource_id: m.id,
      updates: { hostname: null, capabilities: null, metadata },
    });
  } else if (kind < 7) {
    // Resized (a VM) or upgraded (RAM added to a host): capabilities replace all four.
    const memory = Math.min(2_097_152, (m.capabilities.memory_mb ?? 4_096) * 2);
    m.capabilities = { ...m.capabilities, memory_mb: memory, metadata: { ...metadata, resized: 'true' } };
    yield step('ResourceUpdated', {
      resource_id: m.id,
      updates: { hostname: null, capabilities: { ...m.capabilities }, metadata: null },
    });
  } else if (kind < 9) {
    // Renamed into the new DNS zone.
    m.hostname = m.hostname.includes(DOMAIN)
      ? m.hostname.replace(DOMAIN, 'dc1.corp.example')
      : `${m.hostname.split('.')[0]}.pods.dc1.corp.example`;
    yield step('ResourceUpdated', {
      resource_id: m.id,
      updates: { hostname: m.hostname, capabilities: null, metadata: null },
    });
  } else {
    // An inventory sweep that found nothing to change still touches the resource.
    yield step('ResourceUpdated', {
      resource_id: m.id,
      updates: { hostname: null, capabilities: null, metadata: null },
    });
  }
}

/** Re-imaged in place: registered again while active, with its current guests and services. */
export function* reimageHost(w: World): Generator<Step> {
  const host = w.hypervisors.pick(w.rnd);
  if (!host) return yield* provisionHost(w, 'hypervisor');
  host.capabilities.metadata = {
    ...host.capabilities.metadata,
    os: w.rnd.pick(['NixOS 24.11', 'NixOS 25.05']),
  };
  yield* register(w, host);
}
