import type { Transport } from '../transports/transport';
import type { EngineTap } from './core';

/** The transport of a group's stream, telling the group of every byte (its followers' heartbeat). */
export function tapTransport(transport: Transport, tap: EngineTap): Transport {
  const tapped: Transport = (request, handlers) =>
    transport(request, {
      ...handlers,
      onActivity() {
        handlers.onActivity();
        tap.activity();
      },
    });
  return Object.assign(tapped, { seesStatus: transport.seesStatus });
}
