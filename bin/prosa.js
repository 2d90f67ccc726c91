#!/usr/bin/env node
// The prosa command. Installed, it runs the compiled dist/; in the repository (src/ beside bin/) it
// runs the TypeScript sources through tsx, with `prosa` resolving to src/ as vitest resolves it.
// Signal handlers come first, so a SIGTERM during start-up still drains and exits 0.
import { existsSync } from 'node:fs';

let resolveStop;
const stopSignal = new Promise((resolve) => {
  resolveStop = resolve;
});
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) process.exit(130); // a second signal: stop now
    resolveStop(signal);
  });
}

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('node:module');
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  // Registered after tsx, so it runs first: every resolution also matches the `prosa-source` condition.
  register(
    'data:text/javascript,export const resolve = (s, c, next) => next(s, { ...c, conditions: [...c.conditions, "prosa-source"] });',
  );
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/src/cli/main.js'));
}

const code = await main(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  stopSignal,
});
process.exit(code);
