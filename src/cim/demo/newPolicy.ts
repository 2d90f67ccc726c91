/** Policies of every scope: revised, per resource, per network, global. */
import { applyPolicy, policy, rule } from './changes.js';
import type { Step } from './step.js';
import { pad, type World } from './world.js';

export function* newPolicy(w: World): Generator<Step> {
  const { rnd } = w;
  const kind = rnd.int(6);
  const revised = kind === 0 ? w.policies.pick(rnd) : undefined;
  if (revised) {
    // An existing policy revised: the same id, new rules.
    revised.rules = [
      ...revised.rules,
      rule(
        rnd.pick(['Security', 'Access', 'Compliance', 'Performance'] as const),
        'reviewed == false',
        'alert',
      ),
    ].slice(-4);
    return yield* applyPolicy(w, revised);
  }
  const m = kind <= 2 ? (rnd.chance(0.5) ? w.hosts.pick(rnd) : w.vms.pick(rnd)) : undefined;
  if (m) {
    const rules =
      m.role === 'db'
        ? [
            rule('Compliance', 'disk.encrypted == false', 'quarantine'),
            rule('Access', 'user.role != "dba"', 'deny'),
          ]
        : [
            rule('Performance', 'cpu.overcommit_ratio > 4.0', 'alert'),
            rule('Security', 'secure_boot == false', 'alert'),
          ];
    return yield* applyPolicy(w, policy(w, `${m.role}-guardrails-${m.id}`, { Resource: m.id }, rules));
  }
  if (kind <= 4) {
    const net = rnd.pick([...w.networks.values()].filter((n) => n.active));
    const source = net.v4
      ? `${net.v4.address}/${net.v4.prefix_len}`
      : net.v6
        ? `${net.v6.address}/${net.v6.prefix_len}`
        : 'any';
    return yield* applyPolicy(
      w,
      policy(w, `network-guardrails-${net.id}`, { Network: net.id }, [
        rule('Performance', net.id === 'net-storage' ? 'mtu != 9000' : 'utilisation > 0.8', 'alert'),
        rule('Access', `src not in ${source}`, 'log'),
      ]),
    );
  }
  const topic = rnd.pick(['patch-window', 'backup-retention', 'tls-minimum', 'ntp-drift']);
  yield* applyPolicy(
    w,
    policy(w, `global-${topic}-${pad(w.policies.size + 1, 3)}`, 'Global', [
      rule('Compliance', 'kernel.age_days > 30', 'schedule-reboot'),
      rule('Security', 'tls.min_version < "1.2"', 'deny'),
    ]),
  );
}
