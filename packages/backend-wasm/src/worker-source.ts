/**
 * The worker's program, as a string so it can start from the bundle with no file path
 * (`new Worker(code, { eval: true })` in Node, a Blob URL in browsers).
 *
 * Each worker instantiates the same module on the shared memory, then loops: spin on its
 * wake word for a while (a short job then pays no wake-up), else `Atomics.wait` on it; run
 * the posted export with its float64 arguments; bump the shared done counter and notify.
 * Control block layout (bytes from `ctrl`): done counter at 0; slot w at w*SLOT: wake word,
 * function id (-1: exit), argument count, error flag, then float64 arguments from +16.
 */
export const SLOT_BYTES = 256;
export const MAX_ARGS = 24;

const body = `
function start(data, post) {
  const { module, memory, ctrl, slot, names, spin } = data;
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  const fns = names.map((n) => inst.exports[n]);
  const i32 = new Int32Array(memory.buffer, 0, (ctrl >>> 2) + 64 * ${SLOT_BYTES / 4});
  const f64 = new Float64Array(memory.buffer, 0, (ctrl >>> 3) + 64 * ${SLOT_BYTES / 8});
  const wake = (ctrl + slot * ${SLOT_BYTES}) >>> 2;
  const argBase = (ctrl + slot * ${SLOT_BYTES} + 16) >>> 3;
  const done = ctrl >>> 2;
  let seen = Atomics.load(i32, wake);
  post('ready');
  for (;;) {
    let s = Atomics.load(i32, wake);
    for (let n = 0; s === seen; n++) {
      if (n > spin) { Atomics.wait(i32, wake, seen); n = 0; }
      s = Atomics.load(i32, wake);
    }
    seen = s;
    const fn = i32[wake + 1];
    if (fn < 0) break;
    const na = i32[wake + 2];
    const args = new Array(na);
    for (let i = 0; i < na; i++) args[i] = f64[argBase + i];
    try { fns[fn](...args); } catch (e) { i32[wake + 3] = 1; }
    Atomics.add(i32, done, 1);
    Atomics.notify(i32, done);
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
