/** Command-line options of `npm run bench`, with the default sizes of a ~5 minute run. */

export const SCENARIOS = [
  'S1',
  'S2',
  'S3',
  'S4',
  'S5',
  'S6',
  'S7',
  'S8',
  'S9',
  'S10',
  'P',
  'POLL',
  'PUB',
  'PRES',
  'Z',
  'H',
] as const;
export type ScenarioId = (typeof SCENARIOS)[number];

export interface BenchOptions {
  scenarios: ScenarioId[];
  /** Overrides the scenario's client count (S1: the top step). */
  clients: number | undefined;
  /** S1 steps; the last one is the top. */
  steps: number[] | undefined;
  /** Measurement window in seconds (S2, S3, S6, S7, S8, S9, S10); undefined keeps each scenario's default. */
  duration: number | undefined;
  /** Events per second (S2, S3, S6, S7, S10). */
  rate: number | undefined;
  /** Events of the S4 burst. */
  burst: number;
  /** S2: events published per macrotask (1 = each from its own request). */
  batch: number;
  /** S5: storms per server, alternating Tandem and the bare loop. */
  pairs: number;
  /** Payload size in bytes. */
  size: number;
  /** Servers to compare, Tandem first by default. */
  servers: string[];
  /** Record a V8 CPU profile of each server process into bench/results/profiles. */
  cpuProf: boolean;
  help: boolean;
}

export const DEFAULTS: BenchOptions = {
  // H (hostile load) runs only when asked for: it is a robustness check, not a comparison.
  scenarios: SCENARIOS.filter((s) => s !== 'H'),
  clients: undefined,
  steps: undefined,
  duration: undefined,
  rate: undefined,
  burst: 100,
  batch: 1,
  pairs: 1,
  size: 100,
  servers: ['tandem', 'better-sse', 'socketio', 'bare'],
  cpuProf: false,
  help: false,
};

const KNOWN_SERVERS = new Set(['tandem', 'better-sse', 'socketio', 'bare']);

function positiveNumber(name: string, value: string | undefined): number {
  const n = Number(value?.replace(/_/g, ''));
  if (value === undefined || !Number.isFinite(n) || n <= 0)
    throw new Error(`--${name} needs a positive number`);
  return n;
}

/** Parses `--name value` and `--name=value` options; throws on anything unknown or malformed. */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const out: BenchOptions = {
    ...DEFAULTS,
    scenarios: [...DEFAULTS.scenarios],
    servers: [...DEFAULTS.servers],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const flag = name === 'cpu-prof' || name === 'help';
    const value = eq >= 0 ? arg.slice(eq + 1) : flag ? undefined : argv[++i];
    switch (name) {
      case 'scenario':
      case 'scenarios': {
        const list = (value ?? '')
          .split(',')
          .map((s) => s.trim().toUpperCase())
          .filter(Boolean);
        if (list.length === 0) throw new Error('--scenario needs S1…S10, P, POLL or PUB');
        for (const s of list)
          if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario ${s}`);
        out.scenarios = list as ScenarioId[];
        break;
      }
      case 'clients':
        out.clients = Math.round(positiveNumber(name, value));
        break;
      case 'steps':
        out.steps = (value ?? '').split(',').map((s) => Math.round(positiveNumber(name, s)));
        break;
      case 'duration':
        out.duration = positiveNumber(name, value);
        break;
      case 'rate':
        out.rate = positiveNumber(name, value);
        break;
      case 'burst':
        out.burst = Math.round(positiveNumber(name, value));
        break;
      case 'batch':
        out.batch = Math.round(positiveNumber(name, value));
        break;
      case 'pairs':
        out.pairs = Math.round(positiveNumber(name, value));
        break;
      case 'size':
        out.size = Math.round(positiveNumber(name, value));
        if (out.size < 40) throw new Error('--size must be at least 40 bytes (the timestamp takes ~30)');
        break;
      case 'servers': {
        const list = (value ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        for (const s of list) if (!KNOWN_SERVERS.has(s)) throw new Error(`unknown server ${s}`);
        if (list.length === 0)
          throw new Error('--servers needs at least one of tandem, better-sse, socketio, bare');
        out.servers = list;
        break;
      }
      case 'cpu-prof':
        out.cpuProf = true;
        break;
      case 'help':
        out.help = true;
        break;
      default:
        throw new Error(`unknown option --${name}`);
    }
  }
  return out;
}

export const USAGE = `npm run bench [-- options]
  --scenario S3[,S5]   scenarios to run (default: S1…S10, P the client's parser, POLL a 304 poll,
                       PUB publishing over HTTP against in process, PRES presence, Z compression;
                       H, hostile load, only when named)
  --clients N          client count (PUB: events per phase, 20000; S1: top step; S2 1000, S3/S4/S5 10000, S6 2000, S7 1000, S8 2000, S9 2000 users with 4 tabs each, S10 1000, PRES 2000 members, Z 1000)
  --steps a,b,c        S1 steps, the same for every server (default 1000,10000,20000)
  --duration s         measurement window (S1 6, S2 6, S3 6, S5 10, S6 10, S7 6, S8 20, S9 10, S10 4, PRES 10)
  --rate n             events per second (S2 50, S3 10, S5 2, S6 1, S7 10, S10 50)
  --burst n            events in the S4 burst (default 100)
  --batch n            S2: events published per macrotask (default 1)
  --pairs n            S5: storms per server, Tandem and the bare loop alternating (default 1)
  --size bytes         payload size (default 100)
  --servers a,b        peers to compare (default tandem,better-sse,socketio,bare)
  --cpu-prof           write V8 CPU profiles of the servers to bench/results/profiles`;
