'use client';

import type { LiveState } from 'tandem/client';
import { useLiveStatus } from 'tandem/react';

export type PillState = 'live' | 'polling' | 'reconnecting' | 'connecting' | 'offline';

/** What a person should read from the client's state, in one word. */
export function pillState(state: LiveState): PillState {
  if (state.status === 'open') return 'live';
  if (state.status === 'closed') return 'offline';
  if (state.polling) return 'polling';
  if ((state.status === 'connecting' || state.status === 'idle') && state.attempt === 0) return 'connecting';
  return 'reconnecting';
}

const LABEL: Record<PillState, string> = {
  live: 'Live',
  polling: 'Polling',
  reconnecting: 'Reconnecting',
  connecting: 'Connecting',
  offline: 'Offline',
};

const HINT: Record<PillState, string> = {
  live: 'Events stream in over SSE',
  polling: 'Stream down: polling every 3 s while it reconnects',
  reconnecting: 'Stream down: reconnecting with backoff',
  connecting: 'Opening the stream',
  offline: 'Stopped',
};

export function StatusPill() {
  const state = useLiveStatus();
  const pill = pillState(state);
  return (
    <span className={`pill pill-${pill}`} data-testid="status" data-state={pill} title={HINT[pill]}>
      <span className="pill-dot" aria-hidden="true" />
      {LABEL[pill]}
    </span>
  );
}

export function ConnectionDetails() {
  const state = useLiveStatus();
  const parts = [`stream ${state.status}`];
  if (state.polling) parts.push('poller active');
  if (state.attempt > 0) parts.push(`attempt ${state.attempt}`);
  // What happened, in the server's (or the client's) words rather than a code.
  if (state.lastError) parts.push(`last: ${state.lastError.message}`);
  return <span className="details">{parts.join(' · ')}</span>;
}

/** A short, stable name for a client of the group (its id's first characters). */
const tabName = (id: string) => id.slice(0, 4);

/** How many tabs share this panel's stream, and which one holds it. */
export function ShareBadge() {
  const { share } = useLiveStatus();
  if (share.role === 'alone') {
    return (
      <span className="share" data-testid="share" data-role="alone" data-members={1}>
        own stream
      </span>
    );
  }
  const tabs = `${share.members} tab${share.members === 1 ? '' : 's'} on one stream`;
  const who =
    share.role === 'leader'
      ? `this tab (${tabName(share.id)}) leads`
      : `tab ${share.leader ? tabName(share.leader) : '…'} leads`;
  return (
    <span
      className={`share share-${share.role}`}
      data-testid="share"
      data-role={share.role}
      data-members={share.members}
      data-leader={share.leader ?? ''}
      title="Tabs of this browser that show this tenant share one stream: the leading tab holds it and relays it to the others"
    >
      {tabs} · {who}
    </span>
  );
}
