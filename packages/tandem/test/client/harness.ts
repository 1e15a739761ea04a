import { EventSource } from 'eventsource';
import {
  createLiveClient,
  type EventSourceConstructor,
  eventSourceTransport,
  fetchTransport,
  type LiveClient,
  type LiveClientOptions,
  type Transport,
} from '../../src/client';
import {
  type Broker,
  createHub,
  type HubOptions,
  type MemoryBrokerOptions,
  memoryBroker,
} from '../../src/server';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy';
import { type HubServer, startHubServer } from '../helpers/hub-server';

export const NodeEventSource = EventSource as unknown as EventSourceConstructor;

/**
 * The transport a test names: the default (streamed fetch, compact wire), streamed fetch asking
 * for the classic frames, or an EventSource (Node's by default; classic frames).
 */
export function transportNamed(
  name: 'fetch' | 'fetch-classic' | 'eventsource',
  Source: EventSourceConstructor = NodeEventSource,
): Transport | undefined {
  if (name === 'fetch-classic') return fetchTransport({ wire: 'classic' });
  return name === 'eventsource' ? eventSourceTransport({ EventSource: Source }) : undefined;
}

/** A real hub on a loopback port, with the fault proxy in front of it. */
export interface Rig {
  server: HubServer;
  proxy: FaultProxy;
  /** The hub's memory broker, for reading a channel's retained range. */
  broker: Broker;
  /** The base URL clients use: through the proxy. */
  url: string;
  close(): Promise<void>;
}

export async function startRig(hub: HubOptions = {}, broker: MemoryBrokerOptions = {}): Promise<Rig> {
  const log = memoryBroker(broker);
  const server = await startHubServer(createHub({ broker: log, ...hub }));
  const proxy = await startFaultProxy(Number(new URL(server.url).port));
  return {
    server,
    proxy,
    broker: log,
    url: proxy.url('/live'),
    async close() {
      await proxy.close();
      await server.close();
      await log.close();
    },
  };
}

/** What one client's app saw. */
export interface Recording {
  client: LiveClient;
  events: Array<{ channel: string; offset: number; data: unknown; source: string; at: number }>;
  resyncs: Array<{ channels: string[]; reason: string; at: number }>;
  /** Codes of the errors the client went through, in order. */
  errors: string[];
  /** Problems found as events arrived: duplicates and out-of-order offsets. */
  violations: string[];
  count(): number;
}

/** A client whose app records every event and checks exactly-once, in-order delivery per channel. */
export function recordedClient(options: LiveClientOptions): Recording {
  const client = createLiveClient({ storage: null, ...options });
  const last = new Map<string, number>();
  const rec: Recording = {
    client,
    events: [],
    resyncs: [],
    errors: [],
    violations: [],
    count: () => rec.events.length,
  };
  client.onAny((_type, data, meta) => {
    const previous = last.get(meta.channel);
    if (previous !== undefined && meta.offset !== previous + 1) {
      rec.violations.push(`${meta.channel}: ${meta.offset} after ${previous}`);
    }
    last.set(meta.channel, meta.offset);
    rec.events.push({
      channel: meta.channel,
      offset: meta.offset,
      data,
      source: meta.source,
      at: Date.now(),
    });
  });
  let lastError: unknown = null;
  client.subscribeState((state) => {
    if (state.lastError && state.lastError !== lastError) rec.errors.push(state.lastError.code);
    lastError = state.lastError;
  });
  client.onResync((channels, reason) => {
    rec.resyncs.push({ channels, reason, at: Date.now() });
    // A resync legitimately restarts a channel's sequence.
    for (const channel of channels) last.delete(channel);
  });
  client.start();
  return rec;
}
