/**
 * A hub behind the fault proxy in its own process, for the mass-drop test: the server side's
 * work after a cut (hundreds of closing sockets) must not delay the clients' own timers, as it
 * never would when clients are separate machines. Speaks over the IPC channel of `fork`.
 */
import { createHub, memoryBroker } from '../../src/server';
import { startFaultProxy } from '../helpers/fault-proxy';
import { startHubServer } from '../helpers/hub-server';

const broker = memoryBroker();
const server = await startHubServer(createHub({ broker }));
const proxy = await startFaultProxy(Number(new URL(server.url).port));

process.on('message', async (message: { cmd: string }) => {
  if (message.cmd === 'cut') process.send?.({ cut: proxy.cut('rst') });
  if (message.cmd === 'close') {
    await proxy.close();
    await server.close();
    await broker.close();
    process.send?.({ closed: true });
    process.exit(0);
  }
});
process.send?.({ url: proxy.url('/live') });
