/**
 * The worker's program, as a string so it can start from the bundle with no file path
 * (`new Worker(code, { eval: true })` in Node, a Blob URL in browsers).
 *
 * Each worker instantiates the same module on the shared memory, then loops: spin on its
 * wake word for `spinMs` (a job posted right after the last one pays no wake-up), then block
 * in `Atomics.wait` on it, so an idle worker never burns a core another process needs. When
 * woken it claims its slot's job (compare-exchange of the claim word 0 → 1): the caller may
 * already have claimed it (0 → 2) and run it itself, because a worker that is slow to wake
 * (asleep, or its core taken by another process) must not make the caller wait. The claimer
 * runs the export with its float64 arguments and bumps the shared done counter.
 * A kernel may post more shares than there are threads: the slots past the pool's size belong
 * to no thread, and whoever is free claims them (a worker after its own share, in order; the
 * caller after its own, from the last), so a slower thread ends up with less of the work.
 * Control block layout (bytes from `ctrl`): done counter at 0, number of posted shares at 4;
 * slot w at w*SLOT: wake word, function id (-1: exit), argument count, error flag, float64
 * arguments from +16, and the claim word at +CLAIM (0: posted, not claimed; 1: claimed by a
 * worker; 2: by the caller).
 */
export const SLOT_BYTES = 256;
/** Shares a kernel may post per thread: the work-sharing granularity (see `ThreadPool.run`). */
export const SHARES_PER_THREAD = 4;
export const MAX_ARGS = 24;
/** Byte offset of a slot's claim word (after the header and the arguments). */
export const CLAIM_OFFSET = 16 + MAX_ARGS * 8;

const body = `
function start(data, post) {
  const { module, memory, ctrl, slot, threads, names, spinMs } = data;
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  const fns = names.map((n) => inst.exports[n]);
  const slots = threads * ${SHARES_PER_THREAD};
  const i32 = new Int32Array(memory.buffer, 0, (ctrl >>> 2) + slots * ${SLOT_BYTES / 4});
  const f64 = new Float64Array(memory.buffer, 0, (ctrl >>> 3) + slots * ${SLOT_BYTES / 8});
  const wake = (ctrl + slot * ${SLOT_BYTES}) >>> 2;
  const done = ctrl >>> 2;
  const claimOf = (w) => (ctrl + w * ${SLOT_BYTES} + ${CLAIM_OFFSET}) >>> 2;
  const claim = claimOf(slot);
  // runs the share posted in slot w (claimed by this worker) and counts it done
  const runShare = (w) => {
    const head = (ctrl + w * ${SLOT_BYTES}) >>> 2;
    const argBase = (ctrl + w * ${SLOT_BYTES} + 16) >>> 3;
    const na = i32[head + 2];
    const args = new Array(na);
    for (let i = 0; i < na; i++) args[i] = f64[argBase + i];
    try { fns[i32[head + 1]](...args); } catch (e) { i32[head + 3] = 1; }
    Atomics.add(i32, done, 1);
    Atomics.notify(i32, done);
  };
  let seen = Atomics.load(i32, wake);
  post('ready');
  for (;;) {
    let s = Atomics.load(i32, wake);
    const t0 = performance.now();
    for (let n = 0; s === seen; n++) {
      // the clock is read every 64 spins; past the budget, sleep until the wake word changes
      if ((n & 63) === 63 && performance.now() - t0 > spinMs) Atomics.wait(i32, wake, seen);
      s = Atomics.load(i32, wake);
    }
    seen = s;
    // the caller may have run this job itself while we slept: then there is nothing to do
    if (Atomics.compareExchange(i32, claim, 0, 1) !== 0) continue;
    if (i32[wake + 1] < 0) break;
    runShare(slot);
    // then the shares no thread owns, first come first served
    const shares = Atomics.load(i32, done + 1);
    for (let w = threads; w < shares; w++) {
      if (Atomics.compareExchange(i32, claimOf(w), 0, 1) === 0) runShare(w);
    }
  }
  post('exit');
}
`;

/** Source for a Node `worker_threads` worker started with `eval: true`. */
export const nodeWorkerSource = `${body}
const { parentPort } = require('node:worker_threads');
parentPort.once('message', (data) => start(data, (m) => parentPort.postMessage(m)));
`;

/** Source for a browser Web Worker (loaded from a Blob URL). */
export const webWorkerSource = `${body}
self.onmessage = (e) => { self.onmessage = null; start(e.data, (m) => self.postMessage(m)); };
`;
