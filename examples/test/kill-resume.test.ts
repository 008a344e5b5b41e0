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
import { main } from '../src/cli.js';
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

it('Ctrl-C (SIGINT) mid-run exits with 130 and says how to resume', async () => {
  const cwd = tempDir();
  const config = join(cwd, 'c.json');
  writeFileSync(config, JSON.stringify({ epochs: 200, data: { samples: 300 } }));
  const tsx = require.resolve('tsx/cli');
  const child = spawn(
    process.execPath,
    [
      tsx,
      join(import.meta.dirname, '..', 'src', 'bin.ts'),
      'regression',
      '--backend',
      'cpu',
      '--config',
      config,
      '--out',
      'run',
    ],
    { cwd, env: { ...process.env, INIT_CWD: cwd }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const ckPath = join(cwd, 'run', 'checkpoint.json');
  const poll = setInterval(() => {
    if (existsSync(ckPath)) {
      clearInterval(poll);
      child.kill('SIGINT');
    }
  }, 10);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearInterval(poll);
  expect(code).toBe(130);
  expect(stderr).toContain(
    'interrupted: the last finished epoch is saved; continue with: nabla-train regression --resume run/checkpoint.json',
  );
  expect(loadCheckpoint(ckPath).epoch).toBeLessThan(200);
}, 60_000);
