/**
 * A private PostgreSQL for S7 (the tests' own helper: initdb on a free loopback port, no fsync),
 * the CPU time of all its processes, and the throughput of publishes made inside transactions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { postgresBroker, publishInTransaction } from '../../packages/tandem/src/postgres';
import { startPostgres } from '../../packages/tandem/test/helpers/postgres-server';
import { pin } from './proc';

export interface BenchPostgres {
  url: string;
  /** CPU seconds of the postmaster and every backend (live ones, and those it reaped). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const TICKS = 100; // USER_HZ on Linux

/** utime + stime (+ cutime + cstime with `reaped`) of one process, in ticks; 0 once it is gone. */
function ticks(pid: number, reaped: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    return reaped ? own + Number(fields[13]) + Number(fields[14]) : own;
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export async function startBenchPostgres(cpus: string | undefined): Promise<BenchPostgres> {
  const server = await startPostgres();
  const pid = server.pid;
  if (pid === undefined) throw new Error('postgres did not write its pid');
  // Pinned with the hub, as redis-server is; backends started later inherit the affinity.
  pin(pid, cpus);
  return {
    url: server.url,
    cpuSeconds: () => (ticks(pid, true) + children(pid).reduce((sum, c) => sum + ticks(c, false), 0)) / TICKS,
    stop: () => server.stop(),
  };
}

export interface TransactionThroughput {
  /** Committed transactions per second (one event each). */
  perSecond: number;
  committed: number;
  /** Database CPU ms per 1 000 events. */
  dbCpuMsPer1k: number;
}

/**
 * `writers` connections, each committing `begin; insert; publish; commit` in a loop for
 * `seconds`, on `channels` channels (writer w publishes to channel w mod channels): one channel
 * is the worst case (every transaction waits for the previous one's commit), many the best.
 */
export async function transactionThroughput(
  db: BenchPostgres,
  writers: number,
  channels: number,
  seconds: number,
): Promise<TransactionThroughput> {
  const broker = postgresBroker({ connectionString: db.url });
  await broker.ready();
  await broker.close();
  const pool = new pg.Pool({ connectionString: db.url, max: writers });
  await pool.query('create table if not exists bench_orders (id bigserial primary key, total int not null)');
  const run = `${Date.now().toString(36)}`;
  let committed = 0;
  const cpuBefore = db.cpuSeconds();
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const client = await pool.connect();
      const channel = `bench:tx-${run}-${w % channels}`;
      try {
        while (Date.now() < deadline) {
          await client.query('begin');
          const { rows } = await client.query<{ id: string }>(
            'insert into bench_orders (total) values ($1) returning id',
            [w],
          );
          await publishInTransaction(client, channel, 'order:created', { id: rows[0]!.id, total: w });
          await client.query('commit');
          committed++;
        }
      } finally {
        client.release();
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  const cpu = db.cpuSeconds() - cpuBefore;
  await pool.end();
  return {
    perSecond: committed / elapsed,
    committed,
    dbCpuMsPer1k: (cpu * 1000 * 1000) / Math.max(1, committed),
  };
}
