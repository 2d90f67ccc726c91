// Publishes `count` events over `keys` keys to the TALLY stream at NATS_URL; prints the expected rows.
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const [count = 1000, keys = 10] = process.argv.slice(2).map(Number);
const nc = await connect({ servers: process.env.NATS_URL });
const js = jetstream(nc);
const expected = {};
const acks = [];
for (let i = 0; i < count; i++) {
  const id = `k${i % keys}`;
  const amount = (i % 7) + 1;
  expected[id] = expected[id] ?? { total: 0, events: 0 };
  expected[id].total += amount;
  expected[id].events += 1;
  acks.push(js.publish(`tally.${id}`, JSON.stringify({ id, amount })));
}
await Promise.all(acks);
await nc.close();
console.log(JSON.stringify(expected));
