import {
  COMPACT_WIRE,
  CONTROL_EVENTS,
  cursorEntry,
  decodeCursor,
  encodeFrame,
  type HelloPayload,
  TandemError,
  WIRE_PARAM,
} from '../protocol';
import type { Grant, HubRequest } from './auth';
import { concatBytes, utf8 } from './bytes';
import { Connection } from './connection';
import type { HubContext } from './context';
import type { HeaderMap } from './cors';
import { controlFrame, encodeEvent } from './encode';
import { brokerError } from './errors';
import type { StreamOutcome } from './handler';
import { ROTATION_JITTER } from './options';
import type { Replay, ReplayItem } from './replay';
import { type ChannelPlan, planChannels, resyncGroups } from './resume';
import { Gate } from './slices';

/** `text/event-stream` headers; the Node adapter adds the HTTP/1.1 connection headers. */
const STREAM_HEADERS: HeaderMap = {
  'Content-Type': 'text/event-stream; charset=utf-8',
};

/**
 * Opens `GET {base}/stream`: registers the connection and attaches its live listeners first,
 * then plans every channel from the cursor (`Last-Event-ID` wins over `?cursor=`, being newer),
 * and builds the prelude: `retry:` with `tandem:hello`, then any `tandem:resync`. The replay and
 * the live events that arrived meanwhile are written by `Connection.start`.
 */
export async function openStream(
  ctx: HubContext,
  request: HubRequest,
  grant: Grant,
  channels: string[],
  headers: HeaderMap,
): Promise<StreamOutcome> {
  const { settings } = ctx;
  const refuseIfFull = () => {
    if (ctx.connections.size >= settings.maxConnections) {
      throw new TandemError(
        'too_many_connections',
        `the server holds its maximum of ${settings.maxConnections} streams`,
      );
    }
  };
  refuseIfFull();
  const cursor = decodeCursor(
    request.headers.get('last-event-id') ?? request.query.get('cursor') ?? undefined,
    channels,
  );
  // Opens take turns: hundreds arriving at once start over several turns of the event loop.
  const opens = opensOf(ctx);
  if (!opens.tryEnter()) {
    await opens.wait();
    opens.leave();
    if (ctx.closing) throw new TandemError('shutting_down', 'the server is shutting down');
    refuseIfFull();
  } else {
    opens.leave();
  }
  const connection = new Connection(
    ctx.newConnectionId(),
    grant.subject,
    grant.expiresAt ?? Number.POSITIVE_INFINITY,
    channels,
    ctx.host,
  );
  if (Number.isFinite(settings.maxStreamDurationMs)) {
    connection.rotateAt =
      ctx.env.now() + settings.maxStreamDurationMs * (1 - ROTATION_JITTER * Math.random());
  }
  // A client that asks for the compact wire gets it; any other value keeps the classic frames.
  const compact = request.query.get(WIRE_PARAM) === COMPACT_WIRE;
  if (compact) connection.compactIds = new Array(channels.length);
  ctx.addConnection(connection);
  // Resume step 1: the live listener is attached before the log is read.
  ctx.fanout.attach(connection);

  let plans: Awaited<ReturnType<typeof planChannels>>;
  let presence: Uint8Array[] = [];
  try {
    // Presence's first view goes in the prelude, so the client's view is whole from its hello.
    [plans, presence] = await Promise.all([
      planChannels(ctx.broker, channels, cursor, ctx.deliveredMark, REPLAY_PAGE),
      ctx.presence?.open(connection, grant.info) ?? presence,
    ]);
  } catch (error) {
    connection.abort('aborted');
    throw brokerError(error);
  }
  if (connection.isClosed()) {
    throw new TandemError('shutting_down', 'the stream was closed while it started');
  }

  const hello: HelloPayload = {
    connectionId: connection.id,
    heartbeatMs: settings.heartbeatMs,
    serverTime: ctx.env.now(),
    channels: {},
  };
  if (compact) hello.wire = COMPACT_WIRE;
  // Tells the client when to move to a new stream with a fresh token (no gap, no 401).
  if (Number.isFinite(connection.expiresAt))
    hello.expiresInMs = Math.max(0, connection.expiresAt - ctx.env.now());
  const first: ReplayItem[] = [];
  let replayed = 0;
  for (let slot = 0; slot < plans.length; slot++) {
    const plan = plans[slot]!;
    connection.position(
      slot,
      plan.epoch,
      plan.start,
      cursorEntry(plan.channel, { epoch: plan.epoch, offset: plan.start }),
    );
    hello.channels[plan.channel] = { epoch: plan.epoch, head: plan.head, recovered: plan.recovered };
    if (compact) hello.channels[plan.channel]!.id = connection.compactIds![slot];
    ctx.fanout.learn(plan.channel, plan.epoch, plan.head);
    for (const event of plan.events) first.push({ slot, encoded: encodeEvent(event) });
    replayed += plan.events.length;
    // A cursor proves its client received everything up to it (offline: 'undelivered').
    if (plan.recovered) ctx.markDelivered(plan.channel, plan.epoch, plan.start);
    if (plan.recovered && plan.events.length > 0) ctx.metrics.replayed();
  }
  ctx.metrics.replayedEvents(replayed);

  // The hello carries the starting cursor, so an EventSource that drops before any event
  // still resumes from here rather than from a later head.
  const id = connection.cursor;
  const frames: Uint8Array[] = [
    utf8(
      encodeFrame({ retry: settings.retryMs, id, event: CONTROL_EVENTS.hello, data: JSON.stringify(hello) }),
    ),
  ];
  for (const group of resyncGroups(plans)) {
    frames.push(controlFrame(CONTROL_EVENTS.resync, group, id));
    ctx.metrics.resynced(group.reason, group.channels.length);
  }
  frames.push(...presence);
  return {
    kind: 'stream',
    // The request's own header object (see handle), extended rather than copied.
    headers: Object.assign(headers, STREAM_HEADERS),
    connection,
    prelude: frames.length === 1 ? frames[0]! : concatBytes(frames),
    replay: { first, next: nextPages(ctx, plans) },
  };
}

/**
 * Streams that may start per turn of the event loop, per hub. A start reads the first page of
 * each channel's log, encodes it and builds the hello; 300 clients resuming at once (bench H's
 * replay storm) all started in one turn. The others wait for later turns, in order.
 */
export const OPENS_PER_TURN = 16;

/** Each hub's turns of stream opens, kept beside its context rather than in it. */
const openGates = new WeakMap<HubContext, Gate>();

function opensOf(ctx: HubContext): Gate {
  let gate = openGates.get(ctx);
  if (!gate) {
    gate = new Gate(Number.POSITIVE_INFINITY, OPENS_PER_TURN);
    openGates.set(ctx, gate);
  }
  return gate;
}

/**
 * Events a stream's replay reads at once per channel: the first page comes with the resume
 * plan, the rest is read as the replay is written. A backlog of 10 000 events is then neither
 * held whole by each resuming stream nor encoded in one task.
 */
export const REPLAY_PAGE = 256;

/**
 * Reads the rest of each channel's replay, page by page, up to the head of its plan (later
 * events come live). A channel whose next page no longer follows (pruned, or the log lost,
 * meanwhile) is skipped with `resync`. Undefined when the first pages held everything.
 */
function nextPages(ctx: HubContext, plans: readonly ChannelPlan[]): Replay['next'] {
  const rest: { slot: number; channel: string; epoch: string; after: number; head: number }[] = [];
  plans.forEach((plan, slot) => {
    const last = plan.events[plan.events.length - 1];
    if (last && last.offset < plan.head) {
      rest.push({ slot, channel: plan.channel, epoch: plan.epoch, after: last.offset, head: plan.head });
    }
  });
  if (rest.length === 0) return undefined;
  let i = 0;
  return async (connection) => {
    while (i < rest.length) {
      const channel = rest[i]!;
      if (channel.after >= channel.head) {
        i++;
        continue;
      }
      let read: Awaited<ReturnType<typeof ctx.broker.read>>;
      try {
        read = await ctx.broker.read(channel.channel, channel.after, REPLAY_PAGE);
      } catch {
        // The log is unreachable: end the stream; the client resumes from its cursor.
        connection.abort('aborted');
        return null;
      }
      const next = read.events[0];
      if (read.epoch !== channel.epoch || !next || next.offset !== channel.after + 1) {
        connection.skip(
          channel.slot,
          read.epoch === channel.epoch ? 'retention' : 'epoch',
          read.epoch,
          read.head,
        );
        i++;
        continue;
      }
      channel.after = read.events[read.events.length - 1]!.offset;
      ctx.metrics.replayedEvents(read.events.length);
      return read.events.map((event) => ({ slot: channel.slot, encoded: encodeEvent(event) }));
    }
    return null;
  };
}
