import { describe, expect, it } from 'vitest';
import { commandCatalog, requestedCommand } from '../../../src/cli/catalog.js';

const requested = (...argv: string[]) => requestedCommand(argv)?.name;

describe('which command main loads', () => {
  it('is the first word, past the global options', () => {
    expect(requested('status', '--json')).toBe('status');
    expect(requested('--config', 'x.mjs', 'dlq', 'ls')).toBe('dlq');
    expect(requested('-c', 'run', 'status')).toBe('status');
    expect(requested('--no-color', 'pause', 'topology')).toBe('pause');
  });
  it('is the one named by help', () => {
    expect(requested('help', 'rebuild')).toBe('rebuild');
  });
  it('is none for --help, no command or an unknown one (commander answers those)', () => {
    expect(requested('--help')).toBeUndefined();
    expect(requested()).toBeUndefined();
    expect(requested('stauts')).toBeUndefined();
    expect(requested('help')).toBeUndefined();
  });
  it('lists each command once, with a module that registers it', async () => {
    const names = commandCatalog.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const entry of commandCatalog) {
      expect(entry.term.split(' ')[0]).toBe(entry.name);
      expect(typeof (await entry.load())).toBe('function');
    }
  });
});
