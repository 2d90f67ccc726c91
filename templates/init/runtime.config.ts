/**
 * The one file to edit: streams, projections, sagas, SQLite and NATS. As it is, `npm start` runs an
 * embedded nats-server and a SQLite file under .prosa/; NATS_URL, PROSA_DB, LOG_LEVEL and the other
 * environment variables override what is written here.
 */

import { defineConfig } from 'prosa';
import people from './projections/people.js';

export default defineConfig({
  // Created and kept in step with this config by prosa (`managed`).
  streams: { PERSON_EVENTS: { mode: 'managed', subjects: ['person.events.>'], maxAge: '1y' } },
  projections: [people],
});
