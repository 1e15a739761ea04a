/** How a setting's text becomes a value. */
type Kind = 'text' | 'secret' | 'whole' | 'list' | 'flag';

/** One setting of `tandem serve`: its environment variable, its flag, and its help. */
export interface SettingSpec {
  env: string;
  flag: string;
  kind: Kind;
  help: string;
  /** Shown in `--help`; the hub's or broker's own default applies when absent. */
  default?: string;
}

/** Every setting, in the order `--help` lists them. */
export const SETTINGS = {
  port: { env: 'PORT', flag: '--port', kind: 'whole', default: '8080', help: 'port to listen on' },
  host: { env: 'HOST', flag: '--host', kind: 'text', default: '0.0.0.0', help: 'address to listen on' },
  secret: {
    env: 'TANDEM_SECRET',
    flag: '--secret',
    kind: 'secret',
    help: 'HS256 secret (32+ characters) of subscriber tokens (`channels` claim) and publisher tokens (`publish` claim)',
  },
  jwksUrl: {
    env: 'TANDEM_JWKS_URL',
    flag: '--jwks-url',
    kind: 'text',
    help: 'JWKS URL verifying the same tokens signed with RS256, ES256 or EdDSA (instead of TANDEM_SECRET)',
  },
  issuer: { env: 'TANDEM_JWT_ISSUER', flag: '--jwt-issuer', kind: 'text', help: 'required `iss` of tokens' },
  audience: {
    env: 'TANDEM_JWT_AUDIENCE',
    flag: '--jwt-audience',
    kind: 'text',
    help: 'required `aud` of tokens',
  },
  allowAnonymous: {
    env: 'TANDEM_ALLOW_ANONYMOUS',
    flag: '--allow-anonymous',
    kind: 'flag',
    help: 'serve every channel to anyone, without tokens (1 to allow)',
  },
  publishKeys: {
    env: 'TANDEM_PUBLISH_KEYS',
    flag: '--publish-keys',
    kind: 'list',
    help: 'comma-separated keys for POST /publish (Authorization: Bearer <key>); several to rotate',
  },
  redisUrl: {
    env: 'REDIS_URL',
    flag: '--redis-url',
    kind: 'secret',
    help: 'Redis to share events with other instances (redis://…); in memory when absent',
  },
  redisPrefix: {
    env: 'TANDEM_REDIS_PREFIX',
    flag: '--redis-prefix',
    kind: 'text',
    default: 'tandem',
    help: 'prefix of Redis keys',
  },
  corsOrigins: {
    env: 'TANDEM_CORS_ORIGINS',
    flag: '--cors-origins',
    kind: 'list',
    help: 'comma-separated origins that may read cross-origin, or *',
  },
  retentionMs: {
    env: 'TANDEM_RETENTION_MS',
    flag: '--retention-ms',
    kind: 'whole',
    default: '300000',
    help: 'how long events stay replayable',
  },
  maxEventsPerChannel: {
    env: 'TANDEM_MAX_EVENTS_PER_CHANNEL',
    flag: '--max-events-per-channel',
    kind: 'whole',
    default: '10000',
    help: 'most events kept per channel',
  },
  maxConnections: {
    env: 'TANDEM_MAX_CONNECTIONS',
    flag: '--max-connections',
    kind: 'whole',
    default: '10000',
    help: 'most open streams',
  },
  maxEventBytes: {
    env: 'TANDEM_MAX_EVENT_BYTES',
    flag: '--max-event-bytes',
    kind: 'whole',
    default: '262144',
    help: "largest event's data JSON",
  },
  maxBodyBytes: {
    env: 'TANDEM_MAX_BODY_BYTES',
    flag: '--max-body-bytes',
    kind: 'whole',
    default: '1048576',
    help: 'largest POST /publish body',
  },
  maxStreamDurationMs: {
    env: 'TANDEM_MAX_STREAM_DURATION_MS',
    flag: '--max-stream-duration-ms',
    kind: 'whole',
    help: 'end streams after about this long (clients resume at once); below a proxy timeout',
  },
  closeTimeoutMs: {
    env: 'TANDEM_CLOSE_TIMEOUT_MS',
    flag: '--close-timeout-ms',
    kind: 'whole',
    default: '5000',
    help: 'on SIGTERM/SIGINT, how long streams may drain',
  },
  metricsToken: {
    env: 'TANDEM_METRICS_TOKEN',
    flag: '--metrics-token',
    kind: 'secret',
    help: 'serve Prometheus metrics at /metrics to Authorization: Bearer <token> (needs prom-client)',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

type ValueOf<K extends Kind> = K extends 'whole'
  ? number
  : K extends 'list'
    ? string[]
    : K extends 'flag'
      ? boolean
      : string;

/** The settings given, parsed; absent ones are left out. */
export type ServeConfig = { -readonly [N in SettingName]?: ValueOf<(typeof SETTINGS)[N]['kind']> };

/** A setting that cannot be used: the command says so and exits with 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const BY_FLAG = new Map<string, SettingName>(
  Object.entries(SETTINGS).map(([name, spec]) => [spec.flag, name as SettingName]),
);

/**
 * Reads the settings from the environment, then from the flags (`--port 8080`, `--port=8080`,
 * `--allow-anonymous`), which win. Throws a ConfigError naming the variable or flag at fault.
 */
export function readConfig(env: NodeJS.ProcessEnv, args: readonly string[]): ServeConfig {
  const texts = new Map<SettingName, { text: string; from: string }>();
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
    const text = env[spec.env];
    if (text !== undefined && text !== '') texts.set(name, { text, from: spec.env });
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const name = BY_FLAG.get(flag);
    if (!name) throw new ConfigError(`unknown option ${flag} (tandem serve --help lists them)`);
    let text: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (text === undefined && SETTINGS[name].kind === 'flag') text = '1';
    if (text === undefined) text = args[++i];
    if (text === undefined) throw new ConfigError(`${flag} needs a value`);
    texts.set(name, { text, from: flag });
  }
  const config: Record<string, unknown> = {};
  for (const [name, { text, from }] of texts) config[name] = parse(SETTINGS[name].kind, text.trim(), from);
  return config as ServeConfig;
}

function parse(kind: Kind, text: string, from: string): unknown {
  switch (kind) {
    case 'whole':
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
        throw new ConfigError(`${from} must be a whole number (got ${JSON.stringify(text)})`);
      }
      return Number(text);
    case 'list':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    case 'flag':
      if (!/^(1|0|true|false|yes|no)$/i.test(text))
        throw new ConfigError(`${from} must be 1 or 0 (got ${JSON.stringify(text)})`);
      return /^(1|true|yes)$/i.test(text);
    default:
      return text;
  }
}

/** `tandem serve --help`. */
export function helpText(): string {
  const lines = [
    'Usage: tandem serve [options]',
    '',
    'Runs a Tandem hub: GET /stream, GET /poll, POST /publish, /healthz, /readyz (and /metrics).',
    'Every option is an environment variable, or the flag beside it (flags win).',
    '',
  ];
  for (const spec of Object.values(SETTINGS) as SettingSpec[]) {
    const value = spec.kind === 'flag' ? '' : ' <value>';
    lines.push(`  ${spec.env.padEnd(30)} ${spec.flag}${value}`);
    lines.push(`      ${spec.help}${spec.default ? ` (default ${spec.default})` : ''}`);
  }
  lines.push(
    '',
    'Subscriber auth is required: set TANDEM_SECRET or TANDEM_JWKS_URL, or TANDEM_ALLOW_ANONYMOUS=1.',
    'SIGTERM or SIGINT drains: streams get tandem:bye, then the process exits 0.',
  );
  return `${lines.join('\n')}\n`;
}
