/** Process entry of `nabla-train`: wires {@link main} to the real terminal. */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { main, type Plan } from './cli.js';

// npm runs workspace scripts inside the package directory; INIT_CWD is where the user typed the command.
const cwd = process.env.INIT_CWD ?? process.cwd();
// Backends may wait on unref()-ed worker threads (wasm's pool); without a live handle Node
// would see an empty event loop mid-await and exit silently with status 0. Hold one.
const keepAlive = setInterval(() => {}, 1 << 30);
let planned: Plan | null = null;
// Ctrl-C: checkpoints are written atomically, so the last finished epoch is safe; say how to go on.
process.on('SIGINT', () => {
  const ck = planned && join(planned.outDir, 'checkpoint.json');
  const hint =
    ck && existsSync(ck)
      ? `the last finished epoch is saved; continue with: nabla-train ${planned!.config.example} --resume ${relative(cwd, ck) || ck}`
      : 'no epoch had finished, nothing was saved';
  process.stderr.write(`\ninterrupted: ${hint}\n`);
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
