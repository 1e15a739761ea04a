export type { DisconnectFilter, Hub, HubStats, PublishOptions } from './hub-types';

import { type ChannelInfo, memoryBroker, presenceStoreOf } from '../broker';
import {
  assertChannel,
  channelMatches,
  encodeCursor,
  type LiveEvent,
  MAX_CHANNELS_PER_REQUEST,
  type Position,
  TandemError,
} from '../protocol';
import type { Connection, ConnectionHost } from './connection';
import type { HubContext } from './context';
import { corsFrom } from './cors';
import { Deadlines } from './deadlines';
import { resolveServerEnvironment } from './environment';
import { brokerError } from './errors';
import { Expiries } from './expiry';
import { Fanout } from './fanout';
import { createFetchHandler } from './fetch-adapter';
import { beat, headsEveryBeats, PingFrames } from './heartbeat';
import type { DisconnectFilter, Hub } from './hub-types';
import { metricsReporter } from './metrics';
import { createNodeHandler } from './node-adapter';
import type { NodeHandler } from './node-handler';
import type { EventMap, HubOptions } from './options';
import { Presence } from './presence';
import { resolvePresence } from './presence-options';
import { publishEvent } from './publish';
import { resolveSettings } from './settings';
import type { Sink } from './sink';
import { Gate, REPLAY_WRITERS } from './slices';
import { Ticker } from './ticker';

/** Creates a hub: the server side of Tandem. See docs/server.md. */
export function createHub<E extends EventMap = EventMap>(options: HubOptions<E> = {}): Hub<E> {
  const env = resolveServerEnvironment(options);
  const ownBroker = !options.broker;
  const broker = options.broker ?? memoryBroker({ now: env.now, timers: env.timers });
  const settings = resolveSettings(options);
  const presenceSettings = resolvePresence(options.presence);
  const presence = presenceSettings
    ? new Presence(presenceSettings, presenceStoreOf(broker), env, (error) => ctx.reportError(error))
    : null;

  const connections = new Map<string, Connection>();
  const sinks = new Set<Sink>();
  const metrics = metricsReporter(options.metrics);
  const detachMetrics = options.metrics?.attach?.({ connections: () => connections.size });
  const fanout = new Fanout(
    broker,
    {
      delivered(batch, deliveries, now) {
        if (deliveries > 0 && options.metrics) {
          metrics.delivered(deliveries);
          for (const { event } of batch) metrics.deliveryLag(Math.max(0, now - event.ts) / 1000);
        }
        const last = batch[batch.length - 1];
        if (deliveries > 0 && last)
          ctx.markDelivered(last.event.channel, last.event.epoch, last.event.offset);
      },
    },
    env.now,
  );
  const marks = settings.offline === 'undelivered' ? new Map<string, Position>() : null;
  const hubId = Math.random().toString(36).slice(2, 8);
  let connectionSeq = 0;
  let closing = false;
  let closed: Promise<void> | null = null;
  let onDrained: (() => void) | null = null;

  // One timer for every stream's heartbeat, which also tells each stream its channels' heads,
  // and ends the streams past their duration (`maxStreamDurationMs`) first.
  const everyBeats = headsEveryBeats(settings.heartbeatMs);
  const rotating = Number.isFinite(settings.maxStreamDurationMs);
  let beats = 0;
  const ticker = new Ticker(env, settings.heartbeatMs, (now) => {
    if (rotating) {
      // Deleting from a Map while iterating it is safe: a released stream is not visited.
      for (const connection of connections.values()) {
        if (connection.state === 'live' && connection.rotateAt <= now) connection.bye('rotate', 0);
      }
    }
    beat(connections.values(), ++beats, everyBeats, new PingFrames(now, (channel) => fanout.head(channel)));
  });

  // One timer for every token expiry, armed for the earliest: a stream ends at its expiry.
  const expiries = new Expiries<Connection>(env, (connection) => connection.bye('token_expired'));

  const host: ConnectionHost = {
    maxBufferedBytes: settings.maxBufferedBytes,
    replays: new Gate(REPLAY_WRITERS),
    markDirty: (connection) => fanout.markDirty(connection),
    released(connection, reason) {
      connections.delete(connection.id);
      fanout.detach(connection);
      expiries.closed(connection);
      presence?.closed(connection);
      metrics.connectionClosed(reason);
      if (connections.size === 0) ticker.stop();
    },
    resynced: metrics.resynced,
    firstSince: (empty, first) =>
      broker.continues?.(empty, { epoch: first.epoch, head: 1, oldest: 1, created: first.ts }) ?? false,
  };

  const ctx: HubContext = {
    settings,
    broker,
    fanout,
    presence,
    metrics,
    metricsSink: options.metrics,
    cors: corsFrom(options.cors),
    connections,
    host,
    env,
    deadlines: new Deadlines(env),
    sinks,
    get closing() {
      return closing;
    },
    publish: (channel, type, data, publishOptions) =>
      hub.publish(channel, type, data as E[string], publishOptions),
    newConnectionId: () => `${hubId}-${(++connectionSeq).toString(36)}`,
    addConnection(connection) {
      connections.set(connection.id, connection);
      // Its hello tells the heads: the next are due `everyBeats` beats from now.
      connection.headsBeat = beats;
      metrics.connectionOpened();
      expiries.add(connection);
      ticker.start();
    },
    deliveredMark: marks ? (channel) => marks.get(channel) ?? null : undefined,
    markDelivered(channel, epoch, offset) {
      // Offset 0 proves nothing was delivered; no mark either (and none for a read of a
      // channel that has no log).
      if (!marks || offset === 0) return;
      const mark = marks.get(channel);
      if (!mark || mark.epoch !== epoch || mark.offset < offset) marks.set(channel, { epoch, offset });
    },
    reportError(error) {
      console.error('[tandem] unexpected error', error);
    },
    sinkClosed(sink) {
      sinks.delete(sink);
      if (sinks.size === 0) onDrained?.();
    },
  };

  function matchesFilter(connection: Connection, filter: DisconnectFilter): boolean {
    if (typeof filter === 'string') return connection.id === filter;
    if (filter.connectionId !== undefined && connection.id !== filter.connectionId) return false;
    if (filter.subject !== undefined && connection.subject !== filter.subject) return false;
    const pattern = filter.channel;
    if (pattern !== undefined && !connection.channels.some((channel) => channelMatches(pattern, channel))) {
      return false;
    }
    return true;
  }

  async function shutdown(): Promise<void> {
    closing = true;
    ctx.deadlines.fireAll();
    for (const connection of [...connections.values()]) connection.bye('shutdown', settings.retryMs);
    if (sinks.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = env.timers.setTimeout(resolve, settings.closeTimeoutMs);
        onDrained = () => {
          env.timers.clearTimeout(timer);
          resolve();
        };
      });
      // Whatever did not drain in time (a client that stopped reading) is cut.
      for (const sink of [...sinks]) sink.destroy();
    }
    ticker.stop();
    expiries.stop();
    fanout.close();
    detachMetrics?.();
    await presence?.close();
    if (ownBroker) await broker.close();
  }

  let nodeHandler: NodeHandler | undefined;
  const hub: Hub<E> = {
    publish: (channel, type, data, publishOptions) => {
      if (closing) return Promise.reject(new TandemError('shutting_down', 'the hub is closed'));
      return publishEvent(
        broker,
        options.schemas ?? {},
        metrics,
        settings.maxEventBytes,
        channel,
        type,
        data,
        publishOptions,
      ) as Promise<LiveEvent<E[typeof type]>>;
    },
    async cursor(channels) {
      if (closing) throw new TandemError('shutting_down', 'the hub is closed');
      const list = [...new Set(channels)];
      if (list.length === 0 || list.length > MAX_CHANNELS_PER_REQUEST) {
        throw new TandemError('bad_request', `give 1 to ${MAX_CHANNELS_PER_REQUEST} channels`);
      }
      for (const channel of list) assertChannel(channel);
      let infos: ChannelInfo[];
      try {
        infos = await Promise.all(list.map((channel) => broker.info(channel)));
      } catch (error) {
        throw brokerError(error);
      }
      return encodeCursor(
        list.map((channel, i) => [channel, { epoch: infos[i]!.epoch, offset: infos[i]!.head }]),
      );
    },
    async presence(channel) {
      if (closing) throw new TandemError('shutting_down', 'the hub is closed');
      assertChannel(channel);
      if (!presence)
        throw new TandemError('bad_request', 'the hub has no presence (createHub({ presence }))');
      try {
        return await presence.view(channel);
      } catch (error) {
        throw error instanceof TandemError ? error : brokerError(error);
      }
    },
    fetch: createFetchHandler(ctx),
    // Made on first use: a hub served only through `fetch` never touches Node's Buffer.
    get node() {
      nodeHandler ??= createNodeHandler(ctx);
      return nodeHandler;
    },
    disconnect(filter, reason = 'server_closed') {
      let count = 0;
      for (const connection of [...connections.values()]) {
        if (!matchesFilter(connection, filter)) continue;
        connection.bye(reason);
        count++;
      }
      return count;
    },
    stats() {
      const { channels, subscribers, waiters } = fanout.stats();
      return {
        connections: connections.size,
        channels,
        subscribers,
        waiters,
        responses: sinks.size,
        heartbeat: ticker.running,
        ...(presence ? { presence: presence.stats() } : {}),
      };
    },
    close() {
      closed ??= shutdown();
      return closed;
    },
  };
  return hub;
}
