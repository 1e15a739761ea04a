/**
 * PUB — publishes per second over HTTP (`POST /publish`, keep-alive) against `hub.publish` in
 * process, in one run, one event per request and 100 per batch. The hub runs in a child process
 * (bench/publish/server.ts) that measures its own CPU time around each phase, so the figure is
 * the hub's cost per event, not the HTTP client's; phases alternate (in process, HTTP, in process
 * …) so that a drift of the machine falls on both alike, and each adjacent pair gives a ratio.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { buildEntry } from '../lib/build';
import { cpus } from '../lib/harness';
import { type Context, type Row, round, type ScenarioResult } from './types';

const KEY = 'bench-publish-key';
const ROUNDS = 5;
/** Requests in flight at once over the keep-alive connections. */
const CONCURRENCY = 8;

function startServer(entry: string): Promise<{ child: ChildProcess; url: string }> {
  const core = cpus().server;
  const node = [process.execPath, entry];
  const [file, ...args] = core ? ['taskset', '-c', core, ...node] : node;
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`publish server exited with ${code}`)));
    child.stdout!.setEncoding('utf8');
    child.stdout!.once('data', (line: string) => {
      const { port } = JSON.parse(line) as { port: number };
      resolve({ child, url: `http://127.0.0.1:${port}` });
    });
  });
}

const data = (i: number) => ({ id: i, name: 'order', total: 42.5, items: ['a', 'b', 'c'] });

interface Phase {
  cpuUs: number;
  wallMs: number;
}

/** One request on the keep-alive agent: status and body text. */
function send(agent: Agent, url: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        agent,
        method: body === undefined ? 'GET' : 'POST',
        headers:
          body === undefined ? {} : { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function json<T>(agent: Agent, url: string): Promise<T> {
  return JSON.parse((await send(agent, url)).text) as T;
}

/** `count` events over HTTP, `batch` per request, CONCURRENCY requests in flight. */
async function overHttp(agent: Agent, url: string, count: number, batch: number): Promise<Phase> {
  const bodies: string[] = [];
  for (let i = 0; i < count; i += batch) {
    const events = Array.from({ length: Math.min(batch, count - i) }, (_, j) => ({
      channel: 'bench',
      type: 'order:created',
      data: data(i + j),
    }));
    bodies.push(JSON.stringify(batch === 1 ? events[0] : { events }));
  }
  const before = await json<{ cpuUs: number }>(agent, `${url}/control/cpu`);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const response = await send(agent, `${url}/publish`, body);
        if (response.status !== 200) throw new Error(`publish answered ${response.status}: ${response.text}`);
      }
    }),
  );
  const wallMs = performance.now() - started;
  const after = await json<{ cpuUs: number }>(agent, `${url}/control/cpu`);
  // The two control requests are in the figure too: a few µs against thousands of events.
  return { cpuUs: after.cpuUs - before.cpuUs, wallMs };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function runPublish(ctx: Context): Promise<ScenarioResult> {
  const count = ctx.options.clients ?? 20_000;
  const server = await startServer(await buildEntry('bench/publish/server.ts', 'build-publish'));
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const rows: Row[] = [];
  const ratios: Record<string, number> = {};
  try {
    for (const batch of [1, 100]) {
      ctx.log(`PUB: ${count} events, batch ${batch}, ${ROUNDS} rounds each way`);
      // A warm-up of each path: the first phase pays for compilation.
      await json(agent, `${server.url}/control/in-process?count=${count / 4}&batch=${batch}`);
      await overHttp(agent, server.url, count / 4, batch);
      const inProcess: Phase[] = [];
      const http: Phase[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        inProcess.push(
          await json<Phase>(agent, `${server.url}/control/in-process?count=${count}&batch=${batch}`),
        );
        http.push(await overHttp(agent, server.url, count, batch));
      }
      const perEvent = (p: Phase) => p.cpuUs / count;
      const pairRatios = http.map((h, i) => perEvent(h) / perEvent(inProcess[i]!));
      for (const [name, phases] of [
        ['hub.publish', inProcess],
        ['POST /publish', http],
      ] as const) {
        rows.push({
          name: `${name}, batch ${batch}`,
          cpuUsPerEvent: round(median(phases.map(perEvent)), 2),
          eventsPerCpuSecond: round(1e6 / median(phases.map(perEvent)), 0),
          eventsPerSecond: round(median(phases.map((p) => (count / p.wallMs) * 1000)), 0),
        });
      }
      ratios[`http/in-process CPU, batch ${batch}`] = round(median(pairRatios), 2);
      rows.push({
        name: `ratio HTTP / in process, batch ${batch}`,
        cpuUsPerEvent: round(median(pairRatios), 2),
        eventsPerCpuSecond: `${round(Math.min(...pairRatios), 2)}–${round(Math.max(...pairRatios), 2)}`,
        eventsPerSecond: null,
      });
    }
  } finally {
    agent.destroy();
    server.child.removeAllListeners('exit');
    server.child.kill('SIGKILL');
  }
  return {
    id: 'PUB',
    title: 'Publishing over HTTP against hub.publish in process (hub CPU per event)',
    params: { events: count, rounds: ROUNDS, concurrency: CONCURRENCY },
    rows,
    columns: [
      ['cpuUsPerEvent', 'hub CPU µs/event (ratio rows: median of pairs)'],
      ['eventsPerCpuSecond', 'events per CPU second (ratio rows: range)'],
      ['eventsPerSecond', 'events/s (wall)'],
    ],
    targets: [],
    ratios,
    notes: [
      'In-process publishes are awaited one after the other, as the endpoint publishes a batch; HTTP keeps 8 requests in flight on keep-alive connections.',
      'CPU is the hub process alone (process.cpuUsage around each phase); wall-clock rates include the client and are shown for scale only.',
    ],
  };
}
