import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

/** Debian's nginx (`apt-get install nginx`), which `.ci/run` installs. */
export const NGINX_BIN = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path)) ?? null;

export interface Nginx {
  /** `http://127.0.0.1:<port>`, proxying every path to the upstream. */
  url: string;
  close(): Promise<void>;
}

/**
 * nginx as a child process of the test, on a free loopback port, proxying to `upstreamPort`
 * the way a deployment in front of Tandem should: HTTP/1.1 with keep-alive to the upstream and
 * `proxy_buffering off`, so events pass through as they are written.
 */
export function startNginx(upstreamPort: number): Promise<Nginx> {
  return runNginx(
    (port) => `
  upstream hub {
    server 127.0.0.1:${upstreamPort};
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://hub;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 1h;
    }
  }`,
  );
}

/**
 * nginx with `servers(port)` (its upstreams and servers, listening on `port`, a free loopback
 * port) inside an `http {}` of its own. Its configuration, temp files and logs live in a
 * directory of its own, removed on close.
 */
export async function runNginx(servers: (port: number) => string): Promise<Nginx> {
  if (!NGINX_BIN) throw new Error('nginx is not installed (apt-get install nginx)');
  const dir = mkdtempSync(join(tmpdir(), 'tandem-nginx-'));
  for (const sub of ['client', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  const port = await freePort();
  const config = `
worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${servers(port)}
}
`;
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(configPath, config);
  const child: ChildProcess = spawn(NGINX_BIN, ['-p', dir, '-c', configPath, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      // Any answer (the upstream's 404 included) means nginx is listening.
      const response = await fetch(`${url}/ready`);
      await response.body?.cancel();
      return { url, close };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await close();
  throw new Error(`nginx did not start: ${stderr}`);
}
