/**
 * A well-behaved client beside a hostile load (scenario H): one short poll of its own channel
 * every `intervalMs` on a keep-alive connection, timing each answer. It runs in its own process
 * so that the load generator's work does not delay its timers.
 */
import http from 'node:http';
import { serveRequests } from '../lib/proc';

let timer: NodeJS.Timeout | null = null;
let samples: number[] = [];
let errors = 0;
let agent: http.Agent | null = null;

function pollOnce(port: number): void {
  const started = performance.now();
  const req = http.get(
    { host: '127.0.0.1', port, path: '/live/poll?channels=probe', agent: agent!, timeout: 10_000 },
    (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200 || res.statusCode === 304) samples.push(performance.now() - started);
        else errors++;
      });
    },
  );
  req.on('timeout', () => req.destroy());
  req.on('error', () => {
    errors++;
  });
}

serveRequests({
  start(a) {
    const port = Number(a.port);
    const intervalMs = Number(a.intervalMs ?? 50);
    samples = [];
    errors = 0;
    agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    timer = setInterval(() => pollOnce(port), intervalMs);
    return true;
  },
  async stop() {
    if (timer) clearInterval(timer);
    timer = null;
    // Let the last polls answer.
    await new Promise((r) => setTimeout(r, 200));
    agent?.destroy();
    const sorted = [...samples].sort((x, y) => x - y);
    const q = (p: number) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : NaN;
    return { count: sorted.length, errors, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: q(1) };
  },
});
