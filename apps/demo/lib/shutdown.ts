import { closeDemo } from './hub';

/**
 * How long Next.js may still take, once the hub is closed, to finish its own drain: a browser
 * that keeps a connection busy with other requests (the stats refresh) would hold it open.
 */
const EXIT_GRACE_MS = 5_000;

/**
 * On SIGTERM or SIGINT, `next start` stops listening and waits for every open connection to end,
 * which a stream never does by itself: closing the hub ends each one with `tandem:bye`, and its
 * browser reconnects to the process that replaces this one. Next.js then exits on its own
 * (143 after SIGTERM, 130 after SIGINT); should a connection still be busy after the grace
 * period, the process exits anyway, with the same codes.
 */
export function closeOnSignals(): void {
  const close = (signal: NodeJS.Signals) => {
    closeDemo()
      .catch((error: unknown) => console.error('[demo] shutdown failed', error))
      .finally(() => {
        setTimeout(() => process.exit(signal === 'SIGINT' ? 130 : 143), EXIT_GRACE_MS).unref();
      });
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}
