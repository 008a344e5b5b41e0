// `npm run train` and `npm run web` build first; this runs that build without replaying every
// package's build log. Nothing is printed on success (a full cache hit takes about a second);
// on failure the whole captured output is printed and the exit status passed on.
// `NABLA_BUILD_VERBOSE=1` shows the build as it happens.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const turbo = join(dirname(require.resolve('turbo/package.json')), 'bin', 'turbo');
const args = ['run', 'build', '--output-logs=errors-only', ...process.argv.slice(2)];
const verbose = process.env.NABLA_BUILD_VERBOSE === '1';

const child = spawn(process.execPath, [turbo, ...args], {
  cwd: root,
  stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, FORCE_COLOR: process.stdout.isTTY ? '1' : '0' },
});
const chunks = [];
child.stdout?.on('data', (c) => chunks.push(c));
child.stderr?.on('data', (c) => chunks.push(c));
if (!verbose && process.stderr.isTTY) process.stderr.write('building…');
child.on('close', (code, signal) => {
  if (!verbose && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  if (code === 0) return;
  process.stderr.write(Buffer.concat(chunks));
  process.stderr.write(`\nthe build failed (turbo ${args.join(' ')}); output above\n`);
  process.exit(code ?? (signal ? 1 : 1));
});
