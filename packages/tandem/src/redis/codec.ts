/**
 * How events look inside Redis: stream entries (`ts`, `t`, `d` fields under ID `<offset>-0`)
 * and pub/sub notifications (`epoch \n offset \n ts \n type \n data`), as written by the
 * Lua scripts. Event types never contain line breaks (refused at publish) and the data is JSON,
 * whose encoder escapes them, so the first four line breaks delimit the fields.
 */

import { rememberJson } from '../broker';
import type { LiveEvent } from '../protocol';

/** Parses data JSON and remembers the text, so the hub's frames and polls need not stringify it. */
function parseData(json: string): unknown {
  const data: unknown = JSON.parse(json);
  rememberJson(data, json);
  return data;
}

export function entryToEvent(channel: string, epoch: string, id: string, fields: string[]): LiveEvent {
  let ts = 0;
  let type = '';
  let data: unknown = null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1] as string;
    switch (fields[i]) {
      case 'ts':
        ts = Number(value);
        break;
      case 't':
        type = value;
        break;
      case 'd':
        data = parseData(value);
        break;
    }
  }
  return { channel, type, data, offset: Number.parseInt(id, 10), epoch, ts };
}

/** `epoch \n offset \n ts \n type \n data`; undefined when malformed (never from our script). */
export function parseNotification(channel: string, message: string): LiveEvent | undefined {
  const a = message.indexOf('\n');
  const b = message.indexOf('\n', a + 1);
  const c = message.indexOf('\n', b + 1);
  const d = message.indexOf('\n', c + 1);
  if (a < 0 || b < 0 || c < 0 || d < 0) return undefined;
  try {
    return {
      channel,
      epoch: message.slice(0, a),
      offset: Number(message.slice(a + 1, b)),
      ts: Number(message.slice(b + 1, c)),
      type: message.slice(c + 1, d),
      data: parseData(message.slice(d + 1)),
    };
  } catch {
    return undefined;
  }
}
