// @vitest-environment happy-dom
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { afterEach, expect, it } from 'vitest';
import { createLiveClient, type LiveClient } from '../../src/client';
import { LiveProvider, usePresence } from '../../src/react';
import { createHub } from '../../src/server';
import { type HubServer, startHubServer } from '../helpers/hub-server';

let server: HubServer | null = null;
const clients: LiveClient[] = [];
afterEach(async () => {
  cleanup();
  for (const client of clients.splice(0)) client.close();
  await server?.close();
  server = null;
});

function Viewers() {
  const view = usePresence('room:1');
  const names = view.members?.map((member) => String(member.info?.name)).join(', ');
  return <p data-testid="viewers">{view.synced ? `${view.users} viewing: ${names}` : 'connecting'}</p>;
}

function client(token: string): LiveClient {
  const live = createLiveClient({
    url: server!.url,
    channels: ['room:1'],
    token,
    storage: null,
    shareAcrossTabs: false,
  });
  clients.push(live);
  return live;
}

it('usePresence renders who is viewing, live as members come and go', async () => {
  server = await startHubServer(
    createHub({
      presence: { graceMs: 100, intervalMs: 20 },
      authorize: (request) => ({
        subject: request.token ?? 'nobody',
        channels: ['**'],
        info: { name: request.token?.toUpperCase() },
      }),
    }),
  );
  (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(`${server.url}/`);
  render(
    <LiveProvider client={client('ann')}>
      <Viewers />
    </LiveProvider>,
  );
  expect(screen.getByTestId('viewers').textContent).toBe('connecting');
  await waitFor(() => expect(screen.getByTestId('viewers').textContent).toBe('1 viewing: ANN'));
  const ben = client('ben');
  act(() => ben.start());
  await waitFor(() => expect(screen.getByTestId('viewers').textContent).toBe('2 viewing: ANN, BEN'));
  act(() => ben.close());
  await waitFor(() => expect(screen.getByTestId('viewers').textContent).toBe('1 viewing: ANN'));
});
