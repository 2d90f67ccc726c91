/**
 * The one file to edit: streams, projections, sagas, SQLite and NATS. It works as it is with no
 * environment at all: `npm start` then runs an embedded nats-server under .prosa/ and a SQLite file
 * there. Environment variables (NATS_URL, PROSA_DB, LOG_LEVEL, ...) override what is written here.
 */

import { defineConfig } from 'prosa';
import topology from './projections/topology.js';
import decommission from './sagas/decommission.js';
import provisioning from './sagas/provisioning.js';

export default defineConfig({
  // Streams default to INFRASTRUCTURE_EVENTS (external: the CIM crates own it), DLQ and COMMANDS
  // (managed). Add your own, e.g.:
  //   streams: { PERSON_EVENTS: { mode: 'managed', subjects: ['person.events.>'], maxAge: '1y' } },
  projections: [topology],
  // Commands go to the COMMANDS stream; timeouts: workers.<saga>.timeouts or PROSA_<SAGA>_TIMEOUT.
  sagas: [decommission, provisioning],
  defaults: {
    batch: { maxMessages: 10_000, maxWaitMs: 500 },
    maxActors: 10_000,
  },
});
