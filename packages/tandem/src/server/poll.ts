import { jsonBytes, jsonOf } from '../broker';
import {
  cursorEntry,
  type DecodedCursor,
  decodeCursor,
  type HelloChannel,
  joinCursor,
  type LiveEvent,
  type PollResponse,
  TandemError,
} from '../protocol';
import type { HubRequest } from './auth';
import type { HubContext } from './context';
import type { HeaderMap } from './cors';
import { eventJson } from './encode';
import { brokerError } from './errors';
import { jsonText, type PlainOutcome, type SignalSource } from './handler';
import type { PollResult } from './metrics';
import { type ChannelPlan, planChannels, resyncGroups } from './resume';
import { Gate } from './slices';

/** A poll's ETag is its resulting cursor: equal cursors mean nothing new. */
function etagOf(cursor: string): string {
  return `"${cursor}"`;
}

function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  // A client sends back the one tag it got.
  if (ifNoneMatch === etag) return true;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

function parseWait(value: string | null, max: number): number {
  if (value === null || value === '') return 0;
  if (!/^\d+(\.\d+)?$/.test(value)) {
    throw new TandemError('bad_request', 'wait must be a number of seconds');
  }
  return Math.min(Number(value), max);
}

function isEmpty(plans: readonly ChannelPlan[]): boolean {
  return plans.every((plan) => plan.events.length === 0 && !plan.resync);
}

/** Rounds of top-up reads after the first, at most: each either fills the budget or ends a channel. */
const TOP_UP_ROUNDS = 4;

/**
 * Plans the poll's channels with the broker's work bounded by `maxPollBytes`, not only the
 * answer: without it a poll from offset 0 over 64 channels read 64 × `maxPollEvents` events to
 * send 1 MB of them. Every channel first reads an equal share of the budget in parallel (at
 * least one event each, so each moves); what the channels with less to say left over goes, in
 * a few more parallel rounds, to those that were cut short. The broker thus reads about
 * `maxPollBytes` plus one event per channel.
 */
async function planBounded(
  ctx: HubContext,
  channels: string[],
  cursor: DecodedCursor,
): Promise<ChannelPlan[]> {
  const { maxPollBytes, maxPollEvents } = ctx.settings;
  const share = Math.ceil(maxPollBytes / channels.length);
  const plans = await planChannels(ctx.broker, channels, cursor, ctx.deliveredMark, maxPollEvents, share);
  let left = maxPollBytes;
  for (const plan of plans) for (const event of plan.events) left -= jsonBytes(event.data);
  for (let round = 0; round < TOP_UP_ROUNDS && left > 0; round++) {
    const cut = plans.filter((plan) => {
      const last = plan.events[plan.events.length - 1];
      return !plan.resync && last && last.offset < plan.head && plan.events.length < maxPollEvents;
    });
    if (cut.length === 0) break;
    const each = Math.ceil(left / cut.length);
    const reads = await Promise.all(
      cut.map((plan) =>
        ctx.broker.read(
          plan.channel,
          plan.events[plan.events.length - 1]!.offset,
          maxPollEvents - plan.events.length,
          each,
        ),
      ),
    );
    cut.forEach((plan, i) => {
      const { epoch, events } = reads[i]!;
      // Pruned or lost meanwhile: this poll stops where it was; the next one sees why.
      if (epoch !== plan.epoch || events[0]?.offset !== plan.events[plan.events.length - 1]!.offset + 1)
        return;
      for (const event of events) {
        left -= jsonBytes(event.data);
        plan.events.push(event);
      }
    });
  }
  return plans;
}

/**
 * `GET {base}/poll`: the stream's resume rules as one JSON answer. With nothing new it answers
 * `304` to a matching `If-None-Match`, else an empty list; `wait` holds it until an event
 * arrives or the wait ends (a long poll). The waiter is registered before the log is read, so
 * an event appended in between wakes it.
 */
export async function poll(
  ctx: HubContext,
  request: HubRequest,
  channels: string[],
  headers: HeaderMap,
  abortSignal: SignalSource,
): Promise<PlainOutcome> {
  const searchParams = request.query;
  const wait = parseWait(searchParams.get('wait'), ctx.settings.maxPollWaitSeconds);
  const cursor = decodeCursor(
    searchParams.get('cursor') ?? request.headers.get('last-event-id') ?? undefined,
    channels,
  );
  const plan = async () => {
    try {
      return await planBounded(ctx, channels, cursor);
    } catch (error) {
      throw brokerError(error);
    }
  };

  let plans: ChannelPlan[];
  if (wait > 0) {
    const signal = abortSignal();
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const cancelWaiter = ctx.fanout.wait(channels, wake);
    const cancelDeadline = ctx.deadlines.add(ctx.env.now() + wait * 1000, wake);
    signal.addEventListener('abort', wake);
    try {
      plans = await plan();
      if (isEmpty(plans) && !signal.aborted && !ctx.closing) {
        await woken;
        if (!signal.aborted) plans = await plan();
      }
    } finally {
      cancelWaiter();
      cancelDeadline();
      signal.removeEventListener('abort', wake);
    }
  } else {
    plans = await plan();
  }
  // Answers take turns: ten polls of 1 MB each finishing together made one turn of 226 ms.
  const turns = answersOf(ctx);
  if (!turns.tryEnter()) await turns.wait();
  try {
    return respond(ctx, request, plans, headers);
  } finally {
    turns.leave();
  }
}

/** Each hub's turns of poll answers (see `Gate`), kept beside its context rather than in it. */
const answerGates = new WeakMap<HubContext, Gate>();

function answersOf(ctx: HubContext): Gate {
  let gate = answerGates.get(ctx);
  if (!gate) {
    gate = new Gate(ANSWER_SLICES);
    answerGates.set(ctx, gate);
  }
  return gate;
}

/** Slices of answer building per turn of the event loop, per hub. */
const ANSWER_SLICES = 1;

function respond(
  ctx: HubContext,
  request: HubRequest,
  plans: ChannelPlan[],
  headers: HeaderMap,
): PlainOutcome {
  const events: string[] = [];
  const entries: string[] = [];
  let recovered = false;
  let anyResync = false;
  let more = false;
  // The body's events, in bytes: past maxPollBytes the rest waits for the next poll (at least
  // one event goes, however large, or it would never go).
  let budget = ctx.settings.maxPollBytes;
  for (const plan of plans) {
    let last: LiveEvent | undefined;
    for (const event of plan.events) {
      if (budget <= 0) break;
      const text = eventJson(event);
      // The data's bytes are counted once per event (the envelope is ASCII but for the type).
      const bytes = text.length - jsonOf(event.data).length + jsonBytes(event.data);
      if (bytes > budget && events.length > 0) {
        budget = 0;
        break;
      }
      budget -= bytes;
      events.push(text);
      last = event;
    }
    const offset = last ? last.offset : plan.start;
    // Capped by maxPollEvents or maxPollBytes: the cursor stops after the last event sent; the
    // rest comes next poll.
    if (offset < plan.head && !plan.resync) more = true;
    entries.push(cursorEntry(plan.channel, { epoch: plan.epoch, offset }));
    if (plan.resync) anyResync = true;
    // A cursor proves its client received everything up to it (offline: 'undelivered').
    if (plan.recovered) ctx.markDelivered(plan.channel, plan.epoch, plan.start);
    if (plan.recovered && last) recovered = true;
  }
  const groups = anyResync ? resyncGroups(plans) : [];
  for (const group of groups) ctx.metrics.resynced(group.reason, group.channels.length);
  // The body has one resync field: the channels of every group under the first reason.
  const resync =
    groups.length === 0 ? null : { channels: groups.flatMap((g) => g.channels), reason: groups[0]!.reason };
  const cursor = joinCursor(entries);
  const etag = etagOf(cursor);
  // The request's own header object (see handle), extended rather than copied.
  const tagged = Object.assign(headers, { ETag: etag });
  let result: PollResult;
  if (events.length > 0) result = 'events';
  else if (resync) result = 'resync';
  else if (matches(request.headers.get('if-none-match'), etag)) result = 'not_modified';
  else result = 'empty';
  ctx.metrics.polled(result);
  if (recovered) ctx.metrics.replayed();
  ctx.metrics.replayedEvents(events.length);
  if (result === 'not_modified') return { kind: 'response', status: 304, headers: tagged, body: null };
  const channels: Record<string, HelloChannel> = {};
  for (const plan of plans) {
    channels[plan.channel] = { epoch: plan.epoch, head: plan.head, recovered: plan.recovered };
  }
  // A PollResponse, its events written from their data's JSON rather than stringified again.
  const rest: Omit<PollResponse, 'events'> = { cursor, resync, channels, more };
  return jsonText(200, `{"events":[${events.join(',')}],${JSON.stringify(rest).slice(1)}`, tagged);
}
