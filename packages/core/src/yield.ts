/**
 * Reads that let the event loop turn now and then. JavaScript runs `FinalizationRegistry`
 * callbacks (the safety net that frees tensors nobody disposed) as tasks, between turns of the
 * event loop; on cpu and wasm `await t.data()` resolves as a microtask, so a loop that awaits
 * only reads never gives them a chance and its forgotten tensors pile up. An asynchronous read
 * therefore waits for one macrotask when {@link TURN_INTERVAL_MS} have passed since the last
 * one it saw: at most one turn of the event loop per interval, whatever the step rate.
 */

/** Milliseconds between two forced turns of the event loop (at most). */
export const TURN_INTERVAL_MS = 50;

let interval = TURN_INTERVAL_MS;
let lastTurn = 0;

/** @internal for measurements and tests: the interval (`Infinity` turns the forced turns off). */
export function __setTurnInterval(ms: number): void {
  interval = ms;
}

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
 * Called by every asynchronous read: null (go on at once), or, when the interval has passed, a
 * promise that resolves on the next macrotask so finalizers can run first.
 */
export function turnEventLoopNowAndThen(): Promise<void> | null {
  const now = performance.now();
  if (now - lastTurn < interval) return null;
  lastTurn = now;
  return new Promise((resume) => schedule(resume));
}
