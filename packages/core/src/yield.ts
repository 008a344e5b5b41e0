/**
 * Reads that let the event loop turn now and then. JavaScript runs `FinalizationRegistry`
 * callbacks (the safety net that frees tensors nobody disposed) as tasks, between turns of the
 * event loop; on cpu and wasm `await t.data()` resolves as a microtask, so a loop that awaits
 * only reads never gives them a chance and its forgotten tensors pile up. Every
 * {@link READS_PER_TURN}th asynchronous read therefore waits for one macrotask first: a few
 * microseconds, at most once per that many reads.
 */

/** Asynchronous reads between two forced turns of the event loop. */
export const READS_PER_TURN = 32;

let readsSinceTurn = 0;

type Schedule = (resume: () => void) => void;

/** The cheapest macrotask the platform has: `setImmediate` (Node), a `MessageChannel` (browsers), a timer. */
const schedule: Schedule = (() => {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return (resume) => void g.setImmediate!(resume);
  if (typeof MessageChannel === 'function') {
    const waiting: (() => void)[] = [];
    const channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
    return (resume) => {
      waiting.push(resume);
      channel.port2.postMessage(null);
    };
  }
  return (resume) => void setTimeout(resume, 0);
})();

/**
 * Called by every asynchronous read: resolves at once, except every {@link READS_PER_TURN}th call,
 * which waits for the next macrotask so finalizers can run.
 */
export function turnEventLoopNowAndThen(): Promise<void> | null {
  if (++readsSinceTurn < READS_PER_TURN) return null;
  readsSinceTurn = 0;
  return new Promise((resume) => schedule(resume));
}
