import { isValidEpoch, MAX_CHANNELS_PER_REQUEST, TandemError, TimerSlot } from '../protocol';
import { cursorOf } from './positions';
import { isFatal } from './retry';
import type { ShareKit } from './share/core';
import { singleFlight } from './single-flight';
import { jwtClaims } from './token';
import { createWatchdog } from './watchdog';

/** What the sharing chunk uses of the client's first chunk, handed to it (see `ShareKit`). */
export const SHARE_KIT: ShareKit = {
  TimerSlot,
  TandemError,
  cursorOf,
  isFatal,
  isValidEpoch,
  createWatchdog,
  singleFlight,
  jwtClaims,
  maxChannels: MAX_CHANNELS_PER_REQUEST,
};
