import type { ResyncReason } from '../protocol';
import type { IncomingEvent } from './merge';
import type { EventMeta, ResyncHandler } from './types';

type Handler = (data: unknown, meta: EventMeta) => void;
type AnyHandler = (type: string, data: unknown, meta: EventMeta) => void;

/**
 * The app's subscriptions: handlers per event type, for every event, and for resyncs. A handler
 * that throws is reported and never stops delivery to the others.
 */
export class Emitter {
  readonly #byType = new Map<string, Set<Handler>>();
  readonly #any = new Set<AnyHandler>();
  readonly #resync = new Set<ResyncHandler>();

  readonly #report: (error: unknown) => void;

  constructor(report: (error: unknown) => void) {
    this.#report = report;
  }

  on(type: string, handler: Handler): () => void {
    let set = this.#byType.get(type);
    if (!set) {
      set = new Set();
      this.#byType.set(type, set);
    }
    set.add(handler);
    return () => void set.delete(handler);
  }

  onAny(handler: AnyHandler): () => void {
    this.#any.add(handler);
    return () => void this.#any.delete(handler);
  }

  onResync(handler: ResyncHandler): () => void {
    this.#resync.add(handler);
    return () => void this.#resync.delete(handler);
  }

  emit(event: IncomingEvent): void {
    const meta: EventMeta = {
      channel: event.channel,
      type: event.type,
      offset: event.offset,
      epoch: event.epoch,
      ts: event.ts,
      source: event.source,
    };
    const set = this.#byType.get(event.type);
    if (set) for (const handler of [...set]) this.#safely(() => handler(event.data, meta));
    for (const handler of [...this.#any]) this.#safely(() => handler(event.type, event.data, meta));
  }

  emitResync(channels: string[], reason: ResyncReason): void {
    for (const handler of [...this.#resync]) this.#safely(() => handler(channels, reason));
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#report(error);
    }
  }
}
