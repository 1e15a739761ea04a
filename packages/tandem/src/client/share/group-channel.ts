import type { ShareKit } from './core';
import { parseMessage, type ShareMessage, wire } from './messages';
import type { BroadcastChannelLike, SharePlatform } from './platform';

/** What a member does with each kind of message from the others. */
export type MessageHandlers = {
  [T in ShareMessage['t']]: (message: Extract<ShareMessage, { t: T }>) => void;
};

/**
 * A member's line to its group: the group's BroadcastChannel, carrying this protocol's messages
 * only. What arrives is validated and handed to its kind's handler (never the member's own, never after `close`);
 * neither sending nor handling a message ever throws into the page.
 */
export class GroupChannel {
  readonly #channel: BroadcastChannelLike;
  readonly #id: string;
  #open = true;

  /** Throws when the platform refuses the channel (the member then runs alone). */
  constructor(
    platform: SharePlatform,
    name: string,
    id: string,
    kit: Pick<ShareKit, 'isValidEpoch'>,
    handlers: MessageHandlers,
  ) {
    this.#id = id;
    this.#channel = new platform.BroadcastChannel(name);
    this.#channel.onmessage = (event) => {
      const message = parseMessage(event.data, kit);
      if (!message || message.from === this.#id || !this.#open) return;
      try {
        (handlers[message.t] as (message: ShareMessage) => void)(message);
      } catch {
        // A message this member cannot act on never breaks the tab.
      }
    };
  }

  send(message: ShareMessage): void {
    if (!this.#open) return;
    try {
      this.#channel.postMessage(wire(message));
    } catch {
      // A closed channel (the page is going away): nothing to tell.
    }
  }

  close(): void {
    this.#open = false;
    this.#channel.close();
  }
}
