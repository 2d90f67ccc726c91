#!/usr/bin/env node
// The prosa command: TypeScript sources (and runtime.config.ts) are loaded through tsx.
// Signal handlers come first, so a SIGTERM during start-up still drains and exits 0.
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

const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');

const code = await main(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  stopSignal,
});
process.exit(code);
