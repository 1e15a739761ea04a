/**
 * The hubs a test file's tests serve and the raw streams they open, closed after each test
 * whatever its outcome: streams first, then the hubs.
 */
import { afterEach } from 'vitest';
import type { Hub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';
import type { RawStream } from './sse-reader';

export interface ClosedAfterEach {
  /** Serves `hub` on loopback (see `startHubServer`). */
  serve(hub: Hub): Promise<HubServer>;
  /** Streams the test opened: push each one here. */
  streams: RawStream[];
}

export function closedAfterEach(): ClosedAfterEach {
  const servers: HubServer[] = [];
  const streams: RawStream[] = [];
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await Promise.all(servers.splice(0).map((served) => served.close()));
  });
  return {
    async serve(hub) {
      const served = await startHubServer(hub);
      servers.push(served);
      return served;
    },
    streams,
  };
}
