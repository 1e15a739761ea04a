import { jsonLog } from './log';
import { MIGRATE_HELP, migrate } from './migrate';
import { serve } from './serve';
import { ConfigError, helpText } from './settings';

const USAGE =
  'Usage: tandem serve [options]   (tandem serve --help lists the options)\n' +
  "       tandem migrate [options] (the PostgreSQL broker's schema; tandem migrate --help)\n";

/**
 * The `tandem` command. Resolves with the exit code once the command is over; `serve` keeps
 * running until SIGTERM or SIGINT, drains, and resolves with 0.
 */
export async function main(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(command === undefined ? USAGE : helpText());
    return command === undefined ? 2 : 0;
  }
  if (command === 'migrate') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(MIGRATE_HELP);
      return 0;
    }
    return migrate(rest, env);
  }
  if (command !== 'serve') {
    process.stderr.write(`tandem: unknown command ${JSON.stringify(command)}\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpText());
    return 0;
  }
  const log = jsonLog();
  let serving: Awaited<ReturnType<typeof serve>>;
  try {
    serving = await serve(env, rest, log);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log('error', 'config', { error: error.message });
    process.stderr.write(`tandem serve: ${error.message}\n`);
    return 2;
  }
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      // A second signal while draining: stop now.
      if (++signals > 1) return resolve(1);
      serving.stop(signal).then(
        () => resolve(0),
        (error: unknown) => {
          log('error', 'shutdown failed', { error: String(error) });
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
