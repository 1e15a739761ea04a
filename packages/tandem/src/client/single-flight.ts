/**
 * `task` one run at a time: a call while a run is in flight is answered by one more run right
 * after it, shared by every call meanwhile (an event that asked for a poll during one must see
 * a poll that starts after it). The runs' failures are the task's to report: the calls resolve.
 */
export function singleFlight(task: () => Promise<unknown>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const call = (): Promise<void> => {
    if (running) {
      next ??= running.then(() => {
        next = null;
        return call();
      });
      return next;
    }
    const settle = () => {
      running = null;
    };
    running = task().then(settle, settle);
    return running;
  };
  return call;
}
