/** Process entry of `nabla-train`: wires {@link main} to the real terminal. */
import { main, type Plan } from './cli.js';
import { interruptHint, invokedAs, type Saved } from './interrupt.js';

// npm runs workspace scripts inside the package directory; INIT_CWD is where the user typed the command.
const cwd = process.env.INIT_CWD ?? process.cwd();
// Backends may wait on unref()-ed worker threads (wasm's pool); without a live handle Node
// would see an empty event loop mid-await and exit silently with status 0. Hold one.
const keepAlive = setInterval(() => {}, 1 << 30);
let planned: Plan | null = null;
/** The last checkpoint this process wrote (never an older run's file that merely exists). */
let saved: Saved | null = null;

// Ctrl-C: checkpoints are written atomically, so the last finished epoch is safe; say how to go on.
process.on('SIGINT', () => {
  process.stderr.write(`\ninterrupted: ${interruptHint(planned, saved, cwd, invokedAs(process.env))}\n`);
  process.exit(130);
});
main(process.argv.slice(2), {
  env: process.env,
  cwd,
  out: { write: (s) => process.stdout.write(s), isTTY: Boolean(process.stdout.isTTY) },
  err: (s) => process.stderr.write(s),
  onPlan: (p) => {
    planned = p;
  },
  onCheckpoint: (s) => {
    saved = s;
  },
}).then(
  ({ code }) => {
    clearInterval(keepAlive);
    // Backends may hold worker threads; exit explicitly once the run is over.
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`nabla-train failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
