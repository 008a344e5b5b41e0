/**
 * The real thing: a training process killed with SIGKILL at an arbitrary moment leaves a
 * readable checkpoint, and resuming from it ends with the same losses as a run that was
 * never interrupted.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadCheckpoint } from '../src/checkpoint.js';
import { main, type Plan, plan } from '../src/cli.js';
import { interruptHint, invokedAs } from '../src/interrupt.js';
import { captureSink, tempDir } from './helpers.js';

const require = createRequire(import.meta.url);

it('resuming after SIGKILL gives the same losses as an uninterrupted run (cpu)', async () => {
  const cwd = tempDir();
  const config = join(cwd, 'c.json');
  writeFileSync(config, JSON.stringify({ epochs: 30, data: { samples: 300 } }));
  const args = ['regression', '--backend', 'cpu', '--config', config];
  const io = () => ({ env: {}, cwd, out: captureSink(), err: () => {} });

  // A child process that trains and is killed as soon as its first checkpoint exists.
  const out = join(cwd, 'killed');
  const tsx = require.resolve('tsx/cli');
  const child = spawn(
    process.execPath,
    [tsx, join(import.meta.dirname, '..', 'src', 'bin.ts'), ...args, '--out', out],
    {
      cwd,
      stdio: 'ignore',
    },
  );
  const ckPath = join(out, 'checkpoint.json');
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if (existsSync(ckPath)) {
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve();
      }
    }, 10);
    child.on('exit', () => {
      clearInterval(poll);
      resolve();
    });
    child.on('error', reject);
  });
  await new Promise((r) =>
    child.exitCode === null && child.signalCode === null ? child.on('exit', r) : r(null),
  );
  const ck = loadCheckpoint(ckPath);
  expect(ck.epoch).toBeGreaterThanOrEqual(1);
  expect(ck.epoch).toBeLessThan(30); // it really was interrupted

  const resumed = await main(['--resume', ckPath, '--out', out], io());
  expect(resumed.code).toBe(0);
  const whole = await main([...args, '--out', join(cwd, 'whole')], io());
  const losses = (r: typeof whole) => r.result!.history.map((h) => [h.epoch, h.trainLoss, h.testLoss]);
  expect(losses(resumed)).toEqual(losses(whole));
}, 60_000);

/** Starts the CLI in a child process (through tsx, from src/) in `cwd`. */
function startCli(cwd: string, args: string[]) {
  const child = spawn(
    process.execPath,
    [require.resolve('tsx/cli'), join(import.meta.dirname, '..', 'src', 'bin.ts'), ...args],
    {
      cwd,
      env: { ...process.env, INIT_CWD: cwd, npm_lifecycle_event: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

const runIdOf = (path: string) => {
  try {
    return loadCheckpoint(path).runId ?? null;
  } catch {
    return null;
  }
};

it("Ctrl-C with an older run's checkpoint in --out: the hint names this run's checkpoint and the exact command, which resumes", async () => {
  const cwd = tempDir();
  const config = join(cwd, 'c.json');
  writeFileSync(config, JSON.stringify({ epochs: 40, data: { samples: 300 } }));
  const io = () => ({ env: {}, cwd, out: captureSink(), err: () => {} });
  // An older, finished run with another seed leaves its checkpoint in the folder.
  const old = await main(
    ['regression', '--backend', 'cpu', '--config', config, '--seed', '7', '--epochs', '2', '--out', 'my run'],
    io(),
  );
  expect(old.code).toBe(0);
  const ckPath = join(cwd, 'my run', 'checkpoint.json');
  const oldId = runIdOf(ckPath);
  expect(oldId).toMatch(/^[0-9a-f]{12}$/);

  const cli = startCli(cwd, ['regression', '--backend', 'cpu', '--config', config, '--out', 'my run']);
  // Interrupt as soon as this run has written its own first checkpoint (a new run id).
  const poll = setInterval(() => {
    const id = runIdOf(ckPath);
    if (id && id !== oldId) {
      clearInterval(poll);
      cli.child.kill('SIGINT');
    }
  }, 10);
  const code = await cli.exited;
  clearInterval(poll);
  expect(code).toBe(130);
  const ck = loadCheckpoint(ckPath);
  expect(ck.runId).not.toBe(oldId);
  expect(ck.epoch).toBeLessThan(40);
  const hint = cli.stderr();
  expect(hint).toContain(`of run ${ck.runId} is saved; continue with:`);
  const command = hint.match(/\n {2}(npx nabla-train .*)\n/)?.[1];
  expect(command).toBe("npx nabla-train regression --resume 'my run/checkpoint.json' --out 'my run'");

  // Following the hint continues this run in the same folder and finishes it.
  const resumed = await main(['regression', '--resume', 'my run/checkpoint.json', '--out', 'my run'], io());
  expect(resumed.code).toBe(0);
  const done = loadCheckpoint(ckPath);
  expect(done.runId).toBe(ck.runId);
  expect(done.epoch).toBe(40);
}, 90_000);

it("Ctrl-C before this run saved anything never points at an older run's checkpoint", async () => {
  const cwd = tempDir();
  const config = join(cwd, 'c.json');
  writeFileSync(config, JSON.stringify({ epochs: 2, data: { samples: 300 } }));
  const io = () => ({ env: {}, cwd, out: captureSink(), err: () => {} });
  const args = ['regression', '--backend', 'cpu', '--config', config, '--out', 'run'];
  expect((await main([...args, '--seed', '7'], io())).code).toBe(0); // the older run
  // A new run, interrupted before its first epoch ended: nothing of it is saved.
  const p = plan(args, { env: {}, cwd }) as Plan;
  const hint = interruptHint(p, null, cwd, 'npx nabla-train');
  expect(hint).toBe('no epoch had finished, nothing was saved (run/checkpoint.json is from an earlier run)');
  // Once it saved, the hint names its file and the exact command; npm's form when run by npm.
  const saved = { path: join(cwd, 'run', 'checkpoint.json'), epoch: 1, runId: 'abcdef012345' };
  expect(interruptHint(p, saved, cwd, invokedAs({ npm_lifecycle_event: 'train' }))).toBe(
    'epoch 1 of run abcdef012345 is saved; continue with:\n  npm run train -- regression --resume run/checkpoint.json --out run',
  );
  // Resumed, then interrupted before an epoch ended: the file resumed from, unchanged.
  const r = plan(['--resume', 'run/checkpoint.json', '--out', 'run', '--epochs', '5'], {
    env: {},
    cwd,
  }) as Plan;
  expect(interruptHint(r, null, cwd, 'npx nabla-train')).toBe(
    'no epoch finished since resuming; run/checkpoint.json (epoch 2) is unchanged; continue with:\n  npx nabla-train regression --resume run/checkpoint.json --out run',
  );
});
