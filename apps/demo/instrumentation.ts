/**
 * Runs once when the server starts. On the Node.js runtime it hooks the demo's shutdown to
 * SIGTERM and SIGINT (see lib/shutdown.ts); the Edge runtime has no process signals.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { closeOnSignals } = await import('./lib/shutdown');
  closeOnSignals();
}
