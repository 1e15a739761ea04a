import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { launchChromium } from '../helpers/chromium';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy';
import { freePort } from '../helpers/free-port';
import { runtimeBinary } from '../helpers/runtimes';
import {
  childEnv,
  type JsonChild,
  type Packed,
  packAndInstall,
  ROOT,
  run,
  spawnJson,
  subpaths,
} from './packed';
import { locateInDocs } from './snippets';

/**
 * The package as users get it: built, packed, and installed from its tarball into a project
 * outside the workspace. The sources are read only to compare each subpath's export names.
 */

let packed: Packed;
const children: JsonChild[] = [];
let proxy: FaultProxy | null = null;

beforeAll(async () => {
  packed = await packAndInstall();
}, 400_000);

afterAll(() => packed?.close(), 300_000);

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.stop()));
  await proxy?.close();
  proxy = null;
});

const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);

// Each step runs a tool or a process of its own; a busy machine may take a while.
const STEP = { timeout: 120_000 };

describe('the tarball', STEP, () => {
  it('holds the build, the README and the LICENSE, and nothing else', () => {
    const others = packed.files.filter(
      (file) => !file.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(file),
    );
    expect(others).toEqual([]);
    expect(packed.files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'dist/server.js']));
    // No sources and no tests (`dist/testing.js` is the tandem/testing subpath, not a test).
    expect(
      packed.files.filter((file) => file.startsWith('src/') || /(^|\/)test\/|\.test\./.test(file)),
    ).toEqual([]);
  });

  it('loads from each CommonJS subpath only its own optional peer', () => {
    const dist = join(packed.consumer, 'node_modules/tandem/dist');
    // Every package a file requires, following the build's own chunks.
    const requires = (file: string, seen = new Set<string>()): Set<string> => {
      const found = new Set<string>();
      if (seen.has(file)) return found;
      seen.add(file);
      for (const [, specifier] of readFileSync(join(dist, file), 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
        if (specifier!.startsWith('./'))
          for (const name of requires(specifier!.slice(2), seen)) found.add(name);
        else if (!specifier!.startsWith('node:')) found.add(specifier!);
      }
      return found;
    };
    const peers = Object.fromEntries(
      subpaths().map((subpath) => [subpath.slice(2), [...requires(`${subpath.slice(2)}.cjs`)].sort()]),
    );
    expect(peers).toEqual({
      client: [],
      jwt: ['jose'],
      postgres: ['pg'],
      prometheus: ['prom-client'],
      protocol: [],
      react: ['react'],
      redis: ['redis'],
      server: [],
      testing: [],
    });
  });

  it("keeps 'use client' at the top of tandem/react, in both formats", () => {
    for (const file of ['react.js', 'react.cjs']) {
      const code = readFileSync(join(packed.consumer, 'node_modules/tandem/dist', file), 'utf8');
      expect(code.startsWith('"use client";')).toBe(true);
    }
  });

  it('passes publint with no message', async () => {
    const { publint } = await import('publint');
    const { formatMessage } = await import('publint/utils');
    const manifest = JSON.parse(readFileSync(join(packed.packageDir, 'package.json'), 'utf8'));
    // The tarball itself, as npm would publish it.
    const bytes = readFileSync(packed.tarball);
    const tarball = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const { messages } = await publint({ pack: { tarball }, strict: true });
    expect(messages.map((message) => formatMessage(message, manifest))).toEqual([]);
  });

  it('resolves with its types under node16 (ESM and CommonJS) and bundler, by attw', async () => {
    const output = await run(bin('attw'), [packed.tarball, '--profile', 'node16', '--format', 'json'], {
      cwd: packed.dir,
    }).catch((error: Error) => error.message);
    const report = JSON.parse(output.slice(output.indexOf('{'))) as {
      analysis: { problems: { resolutionKind?: string }[]; entrypoints: Record<string, unknown> };
    };
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual([...subpaths(), './package.json'].sort());
    // The node16 profile leaves out node10 (no `exports` support), where nothing resolves.
    expect(report.analysis.problems.filter((problem) => problem.resolutionKind !== 'node10')).toEqual([]);
    expect(report.analysis.problems.length).toBeLessThanOrEqual(
      Object.keys(report.analysis.entrypoints).length,
    );
  });
});

describe('on plain Node (no TypeScript loader)', STEP, () => {
  it('requires every subpath from CommonJS and serves a poll', async () => {
    const output = await run(process.execPath, ['smoke/require.cjs'], { cwd: packed.consumer });
    const result = JSON.parse(output.trim().split('\n').at(-1) ?? '') as {
      loaded: Record<string, string[]>;
      status: number;
      offset: number;
      body: { events: { data: unknown; offset: number }[] };
    };
    // Each built subpath exports what its source does (the workspace runs the sources).
    const names = subpaths().map((subpath) => `tandem${subpath.slice(1)}`);
    expect(Object.keys(result.loaded).sort()).toEqual([...names].sort());
    for (const name of names) {
      const source = Object.keys(await import(/* @vite-ignore */ name)).sort();
      expect(source.length).toBeGreaterThan(0);
      expect(result.loaded[name], name).toEqual(source);
    }
    expect(result.status).toBe(200);
    expect(result.body.events.map((event) => [event.data, event.offset])).toEqual([
      [{ n: 1 }, result.offset],
    ]);
  });
});

describe('tandem/testing', STEP, () => {
  it('loads in a project without Vitest and registers the broker contract with the test API it is handed', async () => {
    const output = await run(process.execPath, ['smoke/testing.mjs'], { cwd: packed.consumer });
    const result = JSON.parse(output.trim().split('\n').at(-1) ?? '') as { vitest: string; names: string[] };
    expect(result.vitest).toBe('missing');
    expect(result.names.length).toBeGreaterThan(10);
    expect(result.names).toContain(
      'memoryBroker keeps the Broker contract > gives concurrent appends distinct contiguous offsets',
    );
  });
});

describe('npx tandem serve', STEP, () => {
  it('runs the hub from the installed tarball: publishes over HTTP, polls it back, drains on SIGTERM', async () => {
    const port = await freePort();
    const env = childEnv({
      PORT: String(port),
      HOST: '127.0.0.1',
      TANDEM_ALLOW_ANONYMOUS: '1',
      TANDEM_PUBLISH_KEYS: 'k',
    });
    // npm runs the command in a child of its own and does not pass signals on: npx gets a
    // process group, and the group gets the signal, as from a terminal or a container runtime.
    const npx = spawn('npx', ['--no-install', 'tandem', 'serve'], {
      cwd: packed.consumer,
      env,
      detached: true,
    });
    const group = (signal: NodeJS.Signals) => {
      try {
        process.kill(-npx.pid!, signal);
      } catch {
        // Already gone.
      }
    };
    let output = '';
    npx.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    npx.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const logged = () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
    try {
      await vi.waitFor(() => expect(logged(), output).toContain('start'), { timeout: 60_000, interval: 100 });
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const { cursor } = (await (await fetch(`${url}/poll?channels=orders`)).json()) as { cursor: string };
      const published = await fetch(`${url}/publish`, {
        method: 'POST',
        headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'orders', type: 'order:created', data: { id: 7 } }),
      });
      expect(published.status).toBe(200);
      const poll = (await (
        await fetch(`${url}/poll?channels=orders&cursor=${encodeURIComponent(cursor)}`)
      ).json()) as { events: { type: string; data: unknown }[] };
      expect(poll.events).toMatchObject([{ type: 'order:created', data: { id: 7 } }]);
      group('SIGTERM');
      await vi.waitFor(() => expect(logged(), output).toContain('stopped'), { timeout: 15_000 });
    } finally {
      group('SIGKILL');
    }

    // The installed command itself, without npm in between, exits 0 after draining.
    const direct = spawnJson(join(packed.consumer, 'node_modules/.bin/tandem'), ['serve'], {
      cwd: packed.consumer,
      env,
    });
    children.push(direct);
    const exited = new Promise<number | null>((resolve) =>
      direct.process.once('exit', (code) => resolve(code)),
    );
    await vi.waitFor(
      () =>
        expect(
          direct.lines.map((line) => line.msg),
          direct.output(),
        ).toContain('start'),
      {
        timeout: 60_000,
        interval: 100,
      },
    );
    direct.process.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(direct.lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['shutdown', 'stopped']));
  });
});

/** The command that runs `smoke/serve.mjs` on each runtime, from the consumer project. */
const RUNTIMES = {
  node: async () => [process.execPath, ['smoke/serve.mjs']],
  bun: async () => [await runtimeBinary('bun'), ['smoke/serve.mjs']],
  deno: async () => [
    await runtimeBinary('deno'),
    ['run', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', 'smoke/serve.mjs'],
  ],
} satisfies Record<string, () => Promise<[string, string[]]>>;

describe.each(Object.keys(RUNTIMES) as (keyof typeof RUNTIMES)[])('a hub served on %s', STEP, (runtime) => {
  it('delivers live events, and after a cut resumes exactly: nothing lost, nothing twice', async () => {
    const [file, args] = await RUNTIMES[runtime]();
    const server = spawnJson(file, args, {
      cwd: packed.consumer,
      env: childEnv({ DENO_NO_UPDATE_CHECK: '1', DENO_DIR: join(packed.dir, 'deno') }),
    });
    children.push(server);
    await vi.waitFor(() => expect(server.lines[0], server.output()).toBeDefined(), { timeout: 20_000 });
    const ports = server.lines[0] as { runtime: string; hub: number; control: number };
    expect(ports.runtime).toBe(runtime);
    proxy = await startFaultProxy(ports.hub);

    // The client runs on plain Node, through the proxy that plays the network.
    const client = spawnJson(process.execPath, ['smoke/client.mjs', proxy.url('/live')], {
      cwd: packed.consumer,
    });
    children.push(client);
    const events = () => client.lines.filter((line) => 'event' in line);
    const statuses = () => client.lines.filter((line) => 'status' in line).map((line) => line.status);
    await vi.waitFor(() => expect(statuses(), client.output()).toContain('open'), { timeout: 15_000 });

    const publish = async (count: number) => {
      const response = await fetch(`http://127.0.0.1:${ports.control}/publish?count=${count}`, {
        method: 'POST',
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { offsets: number[] }).offsets;
    };
    const before = await publish(5);
    await vi.waitFor(() => expect(events()).toHaveLength(5), { timeout: 15_000 });

    // Cut every connection, and publish while the client is away.
    expect(proxy.cut()).toBeGreaterThan(0);
    const during = await publish(5);
    await vi.waitFor(() => expect(events().length, client.output()).toBeGreaterThanOrEqual(10), {
      timeout: 20_000,
    });
    await vi.waitFor(
      () => expect(statuses().filter((status) => status === 'open').length).toBeGreaterThan(1),
      {
        timeout: 20_000,
      },
    );

    expect(events().map((line) => line.event)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events().map((line) => line.offset)).toEqual([...before, ...during]);
    expect(new Set(events().map((line) => line.epoch)).size).toBe(1);
    expect(client.lines.filter((line) => 'resync' in line)).toEqual([]);
    expect(statuses()).toContain('reconnecting');
  });
});

describe('a consumer type-checked against the declarations alone', STEP, () => {
  // The files use the API as an app does, with `@ts-expect-error` where the types must refuse.
  it('passes tsc under moduleResolution nodenext and bundler, strict and exactOptionalPropertyTypes', async () => {
    const tsc = join(packed.consumer, 'node_modules/typescript/bin/tsc');
    const check = (resolution: string) =>
      run(process.execPath, [tsc, '-p', `types/tsconfig.${resolution}.json`], { cwd: packed.consumer });
    // `worker`: a hub.fetch app with no Node types installed.
    await Promise.all([check('nodenext'), check('bundler'), check('worker')]);
  });
});

/**
 * Blocks that may be left out (`<!-- snippet: skip (why) -->`), counted so that a new one is a
 * decision: today Bun's and Deno's own servers (their globals are not in the project's types)
 * three ORMs the project does not install, and a Vitest file using tandem/testing (the project
 * installs no test framework: tandem/testing is checked to load without one).
 */
const MAX_SKIPPED = 6;

describe('the TypeScript blocks of README.md and docs/', STEP, () => {
  // Each block is a file of the consumer (snippets.ts); an error names the document's line.
  it('type-check against the packed package under strict and exactOptionalPropertyTypes', async () => {
    const { placed, skipped, error } = packed.snippets;
    expect(error?.message).toBeUndefined();
    expect(placed.filter((file) => file.snippet.doc === 'README.md').length).toBeGreaterThan(5);
    expect(skipped.length, JSON.stringify(skipped)).toBeLessThanOrEqual(MAX_SKIPPED);
    expect(skipped.filter((skip) => skip.reason === '')).toEqual([]);
    const tsc = join(packed.consumer, 'node_modules/typescript/bin/tsc');
    const output = await run(process.execPath, [tsc, '-p', 'tsconfig.snippets.json', '--pretty', 'false'], {
      cwd: packed.consumer,
    }).then(
      () => '',
      (failure: Error) => failure.message,
    );
    const errors = locateInDocs(output, placed)
      .split('\n')
      .filter((line) => line.includes('error TS'));
    expect(errors).toEqual([]);
    expect(output).toBe('');
  });
});

describe('a Next.js app with create-next-app’s configuration', () => {
  it('builds the README’s quick start and the docs’ Next.js files; its page in Chromium shows a published order', async () => {
    const next = join(packed.consumer, 'node_modules/next/dist/bin/next');
    const env = childEnv({ NODE_ENV: 'production' });
    // No secret, no transpilePackages, no segment config: the hub is created at the first request.
    await run(process.execPath, [next, 'build'], { cwd: packed.consumer, env, timeoutMs: 300_000 }).catch(
      (failure: Error) => {
        throw new Error(locateInDocs(failure.message, packed.snippets.placed));
      },
    );
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = spawnJson(process.execPath, [next, 'start', '-p', String(port), '-H', '127.0.0.1'], {
      cwd: packed.consumer,
      env: { ...env, TANDEM_SECRET: 'a-secret-of-the-test-that-is-32-bytes-or-more' },
    });
    children.push(server);
    await vi.waitFor(
      async () => {
        const response = await fetch(`${base}/`);
        expect(response.status, server.output()).toBe(200);
      },
      { timeout: 30_000, interval: 250 },
    );

    const browser = await launchChromium();
    try {
      // The README's page: the token route grants tenant:acme/**, the page follows tenant:acme/orders.
      const page = await browser.context.newPage();
      await page.goto(`${base}/orders`);
      await expect.poll(() => page.locator('section > p').textContent(), { timeout: 20_000 }).toBe('open');
      const response = await fetch(`${base}/api/publish?tenant=acme&id=o-7&total=7`, { method: 'POST' });
      expect(response.status).toBe(200);
      await expect
        .poll(() => page.locator('section li').allTextContents(), { timeout: 20_000 })
        .toEqual(['o-7: 7']);

      // A token that grants another tenant than the page follows: the page says why it is not open.
      await browser.context.addCookies([
        { name: 'tenant', value: 'beta', domain: '127.0.0.1', path: '/api/live-token' },
      ]);
      const refused = await browser.context.newPage();
      await refused.goto(`${base}/orders`);
      await expect
        .poll(() => refused.locator('section > p').textContent(), { timeout: 20_000 })
        .toMatch(/^closed \(forbidden: .*tenant:acme\/orders/);
    } finally {
      await browser.close();
    }
  }, 400_000);
});
