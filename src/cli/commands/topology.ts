/** `prosa topology`: the topology read model as a table, JSON, or a Mermaid/Graphviz graph. */
import { existsSync } from 'node:fs';
import { type Command, Option } from 'commander';
import {
  formatTopology,
  openDatabase,
  ProsaError,
  readTopologyView,
  type TopologyFormat,
  topologyFormats,
} from '../../internal.js';
import type { CliContext } from '../context.js';

export function registerTopology(command: Command, ctx: CliContext): void {
  command
    .addOption(
      new Option('--format <format>', 'table, json, or a graph: mermaid or dot (Graphviz)')
        .choices(topologyFormats)
        .default('table'),
    )
    .action(async (opts: { format: TopologyFormat }) => {
      const c = await ctx.config();
      if (!existsSync(c.sqlitePath)) {
        throw new ProsaError(
          'PROSA_SQLITE',
          `no database at ${c.sqlitePath}: start the worker (\`npm start\`) and publish some events (\`prosa demo\`), or set PROSA_DB to the worker's database`,
        );
      }
      const db = openDatabase(c.sqlitePath, { readonly: true });
      try {
        ctx.io.out(formatTopology(readTopologyView(db), opts.format));
      } finally {
        db.close();
      }
    });
}
