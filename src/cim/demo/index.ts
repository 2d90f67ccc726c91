/**
 * The demo: a small data centre told as CIM infrastructure events, exactly as the crates publish
 * them, so a newcomer sees the topology read model fill.
 *
 * The story: two spine switches and a management, storage, pod and lab network; racks that come
 * with a top-of-rack switch, a dual-stack rack network and their uplinks (one
 * `NetworkTopologyDefined` each); physical hosts cabled to their rack's switch, with interfaces on
 * the rack, storage and management networks; VMs on the hypervisors and containers on the VMs;
 * software configured (and upgraded) with versions, Nix derivations and dependencies; policies of
 * every scope. Along the way resources are updated (resized, renamed, re-tagged, re-imaged), cables
 * fail and are repaired, VMs migrate, tenants come and go with their networks, the lab network
 * closes and reopens, hosts are decommissioned (their VMs migrated away first, then the host
 * removed and its connections severed, as the decommission saga asks) and come back repaired
 * (registered again). A scripted first act shows every event type within about the first hundred
 * events; after it the estate keeps growing with a weighted mix, for any number of events.
 *
 * Deterministic: the same seed, `start` and `spacingMs` give the same bytes. The ids look like the
 * crate's fresh UUID v7s (their time part is the event's time) but come from the seeded generator.
 *
 * @example
 * for (const { subject, data } of createDemoScenario({ events: 1_000, seed: 7 })) await js.publish(subject, data);
 */
export {
  createDemoScenario,
  DEMO_START,
  type DemoEvent,
  type DemoScenarioOptions,
} from './createDemoScenario.js';
export { type PublishDemoOptions, type PublishDemoResult, publishDemo } from './publishDemo.js';
