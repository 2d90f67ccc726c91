import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';

describe('test nats-server harness', () => {
  let server: TestNatsServer;
  afterAll(() => server?.cleanup());

  it('starts on an ephemeral port and survives kill -9 and restart on the same port', async () => {
    server = await startNatsServer();
    expect(server.port).toBeGreaterThan(0);
    let nc = await connect({ servers: server.url });
    expect(nc.info?.jetstream).toBe(true);
    await nc.close();
    await server.kill();
    await expect(connect({ servers: server.url, reconnect: false, timeout: 500 })).rejects.toThrow();
    await server.restart();
    nc = await connect({ servers: server.url });
    expect(nc.info?.port).toBe(server.port);
    await nc.close();
  });
});
