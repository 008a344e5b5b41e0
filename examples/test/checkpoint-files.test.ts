/**
 * Checkpoint files as a user meets them: edited or damaged contents are named and refused (exit
 * 2), a full disk or a read-only folder is one clear line (exit 2) and the previous checkpoint
 * stays valid, stale temporary files are removed, a diverging run stops.
 */
import * as fs from 'node:fs';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Checkpoint,
  CheckpointError,
  loadCheckpoint,
  removeStaleTemps,
  saveCheckpoint,
  type WriteFs,
} from '../src/checkpoint.js';
import { main } from '../src/cli.js';
import { captureSink, tempDir } from './helpers.js';

function cli(cwd: string, env: Record<string, string> = {}) {
  let err = '';
  const out = captureSink();
  const run = (argv: string[]) =>
    main(argv, {
      env,
      cwd,
      out,
      err: (s) => {
        err += s;
      },
    });
  return { run, err: () => err, out: () => out.text() };
}

/** A finished 2-epoch regression run on cpu in a fresh folder; returns the folder and file. */
async function finishedRun(): Promise<{ cwd: string; path: string; ck: Checkpoint }> {
  const cwd = tempDir();
  writeFileSync(join(cwd, 'c.json'), JSON.stringify({ epochs: 2, data: { samples: 200 } }));
  const r = await cli(cwd).run(['regression', '--backend', 'cpu', '--config', 'c.json', '--out', 'run']);
  expect(r.code).toBe(0);
  const path = join(cwd, 'run', 'checkpoint.json');
  return { cwd, path, ck: JSON.parse(readFileSync(path, 'utf8')) };
}

describe('checkpoint contents are validated', () => {
  const edits: [string, (ck: any) => void, RegExp][] = [
    [
      'an epoch past the run',
      (ck) => {
        ck.epoch = 999;
      },
      /"epoch" is 999, more than the run's 2 epochs/,
    ],
    [
      'a history that disagrees with the epoch',
      (ck) => ck.history.pop(),
      /"epoch" is 2, but "history" has 1 epochs of run 'mlp'/,
    ],
    [
      'tensor data of the wrong size',
      (ck) => {
        const t = Object.values(ck.runs.mlp.model)[0] as any;
        const bytes = Buffer.from(t.$tensor.data, 'base64');
        t.$tensor.data = Buffer.concat([bytes, bytes]).toString('base64');
      },
      /"runs\.mlp\.model\.0\.weight" has shape \[\d+, \d+\] \(\d+ values, \d+ bytes\) but \d+ bytes of data/,
    ],
    [
      'a shape that does not fit the model',
      (ck) => {
        const t = ck.runs.mlp.model['0.weight'].$tensor;
        t.shape = [t.shape[1], t.shape[0]];
      },
      /runs\.mlp\.model does not fit the model/,
    ],
    [
      'a missing optimizer state',
      (ck) => delete ck.runs.mlp.optimizer,
      /"runs\.mlp\.optimizer" must be an optimizer state dict/,
    ],
    [
      'an edited config',
      (ck) => {
        ck.config.optimizer.lr = 5;
      },
      /"configHash" does not match "config"/,
    ],
    [
      'a bad dtype',
      (ck) => {
        ck.runs.mlp.model['0.bias'].$tensor.dtype = 'float64';
      },
      /has dtype "float64"/,
    ],
  ];
  it.each(edits)('%s: exit 2, naming the entry', async (_what, edit, message) => {
    const { cwd, path, ck } = await finishedRun();
    edit(ck);
    writeFileSync(path, JSON.stringify(ck));
    const c = cli(cwd);
    const r = await c.run(['--resume', 'run/checkpoint.json', '--epochs', '4', '--out', 'run2']);
    expect(r.code).toBe(2);
    expect(c.err()).toMatch(message);
    expect(c.err()).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(cwd, 'run2'))).toBe(false); // nothing written
  });

  it('resuming a finished run is refused (exit 2) and rewrites nothing', async () => {
    const { cwd, path } = await finishedRun();
    const before = readFileSync(path, 'utf8');
    const c = cli(cwd);
    const r = await c.run(['--resume', 'run/checkpoint.json', '--out', 'run']);
    expect(r.code).toBe(2);
    expect(c.err()).toContain('is of a finished run (2 of 2 epochs); pass --epochs with more than 2');
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('--eval-only names the checkpoint and its run, not training settings', async () => {
    const { cwd, ck } = await finishedRun();
    const c = cli(cwd);
    expect((await c.run(['--resume', 'run/checkpoint.json', '--eval-only'])).code).toBe(0);
    expect(c.out()).toContain(
      `evaluating regression on cpu: run/checkpoint.json, after epoch 2 of 2 (run ${ck.runId})`,
    );
    expect(c.out()).not.toMatch(/batch|lr /);
  });
});

describe('checkpoint writes', () => {
  const ck = { format: 'nabla-checkpoint', version: 2, example: 'x' } as unknown as Checkpoint;
  const failing = (code: string, at: keyof WriteFs): WriteFs => {
    const real: WriteFs = {
      openSync: fs.openSync,
      writeSync: fs.writeSync,
      fsyncSync: fs.fsyncSync,
      closeSync: fs.closeSync,
      renameSync: fs.renameSync,
    };
    return {
      ...real,
      [at]: () => {
        throw Object.assign(new Error(`${code}: simulated`), { code });
      },
    };
  };

  it.each([
    ['ENOSPC', 'writeSync', 'no space left on the device (ENOSPC)'],
    ['EACCES', 'openSync', 'permission denied (EACCES)'],
    ['ENOSPC', 'fsyncSync', 'no space left on the device (ENOSPC)'],
  ] as const)('%s in %s: one line, no temp file left, the previous checkpoint unchanged', (code, at, text) => {
    const dir = tempDir();
    const path = join(dir, 'checkpoint.json');
    writeFileSync(path, 'previous');
    let error: unknown;
    try {
      saveCheckpoint(path, ck, failing(code, at));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CheckpointError);
    const message = (error as Error).message;
    expect(message).toBe(
      `cannot write checkpoint ${path}: ${text}; the previous checkpoint there, if any, is unchanged`,
    );
    expect(readdirSync(dir)).toEqual(['checkpoint.json']);
    expect(readFileSync(path, 'utf8')).toBe('previous');
  });

  it('a real save leaves exactly the checkpoint, and stale temp files of dead processes are removed', () => {
    const dir = tempDir();
    const path = join(dir, 'checkpoint.json');
    // pid 2^22+1 is above Linux's pid_max default: no such process.
    const stale = `${path}.4194305.tmp`;
    const mine = `${path}.${process.pid}.tmp`;
    writeFileSync(stale, 'x'.repeat(1000));
    writeFileSync(mine, 'in progress');
    expect(removeStaleTemps(path)).toEqual([stale]);
    expect(existsSync(mine)).toBe(true); // a live process's save is left alone
    saveCheckpoint(path, ck);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(ck);
    expect(existsSync(mine)).toBe(false); // the save renamed its own temp file
  });

  it('a run removes stale temp files in its folder before training', async () => {
    const { cwd, path } = await finishedRun();
    writeFileSync(`${path}.4194305.tmp`, 'left by a killed save');
    const c = cli(cwd);
    const r = await c.run(['--resume', 'run/checkpoint.json', '--epochs', '3', '--out', 'run']);
    expect(r.code).toBe(0);
    expect(c.err()).toContain('checkpoint.json.4194305.tmp, left by an interrupted save');
    expect(readdirSync(join(cwd, 'run')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(loadCheckpoint(path).epoch).toBe(3);
  });
});

describe('divergence and the smaller CLI messages', () => {
  it('a non-finite loss stops the run naming epoch and step, suggesting a lower lr', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'c.json'), JSON.stringify({ epochs: 3, data: { samples: 200 } }));
    const c = cli(cwd);
    const r = await c.run([
      'regression',
      '--backend',
      'cpu',
      '--config',
      'c.json',
      '--optimizer',
      'sgd',
      '--lr',
      '1e9',
      '--out',
      'run',
    ]);
    expect(r.code).toBe(1);
    expect(c.err()).toMatch(
      /nabla-train: the loss became (NaN|Infinity) at epoch 1, step \d+ of \d+ \(run mlp, lr 1000000000\): training diverged\. Try a lower learning rate, e\.g\. --lr 100000000\./,
    );
    expect(existsSync(join(cwd, 'run', 'loss.png'))).toBe(false);
  });

  it('NABLA_BACKEND: an unknown value says it came from the environment; empty is unset', async () => {
    const cwd = tempDir();
    const bad = cli(cwd, { NABLA_BACKEND: 'wsam' });
    expect((await bad.run(['regression', '--epochs', '1'])).code).toBe(2);
    expect(bad.err()).toContain(
      "unknown backend 'wsam' from the environment (NABLA_BACKEND=wsam) (did you mean 'wasm'?)",
    );
    const empty = cli(cwd, { NABLA_BACKEND: '' });
    writeFileSync(join(cwd, 'c.json'), JSON.stringify({ epochs: 1, data: { samples: 100 } }));
    const r = await empty.run(['regression', '--config', 'c.json', '--backend', 'cpu', '--out', 'o']);
    expect(r.code).toBe(0);
  });

  it('--epoch: did you mean --epochs', async () => {
    const c = cli(tempDir());
    expect((await c.run(['--epoch', '3'])).code).toBe(2);
    expect(c.err()).toContain("unknown option '--epoch' (did you mean '--epochs'?)");
  });
});
