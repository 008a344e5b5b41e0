import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, plan } from '../src/cli.js';
import { EXAMPLES } from '../src/examples/index.js';
import { parseArgs, scheduledLr, UsageError } from '../src/options.js';
import { captureSink, tempDir } from './helpers.js';

const configsDir = join(import.meta.dirname, '..', 'configs');

function runCli(argv: string[], env: Record<string, string> = {}) {
  const out = captureSink();
  const errs: string[] = [];
  return main(argv, { env, cwd: tempDir(), out, err: (s) => void errs.push(s) }).then((r) => ({
    ...r,
    out: out.text(),
    err: errs.join(''),
  }));
}

describe('command-line errors list what is allowed', () => {
  it('unknown option', async () => {
    const r = await runCli(['spirals', '--epoch', '3']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      "unknown option '--epoch' (did you mean '--epochs'?). Allowed options: --backend, --config, --epochs, --batch-size, --lr, --optimizer, --seed, --out, --resume, --eval-only, --eager, --help",
    );
  });

  it('unknown example', async () => {
    const r = await runCli(['spiral']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      "unknown example 'spiral'. Available examples: spirals, mnist, batchnorm, sequence, regression",
    );
  });

  it('unknown backend, from the flag or from NABLA_BACKEND', async () => {
    const r = await runCli(['spirals', '--backend', 'cuda']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown backend 'cuda'. Allowed: auto, cpu, wasm, webgpu");
    const e = await runCli(['spirals'], { NABLA_BACKEND: 'tpu' });
    expect(e.err).toContain("unknown backend 'tpu'");
  });

  it('unknown optimizer and bad numbers', () => {
    expect(() => parseArgs(['--optimizer', 'rmsprop'])).toThrow(
      "unknown optimizer 'rmsprop'. Allowed: sgd, adam, adamw",
    );
    expect(() => parseArgs(['--epochs', '2.5'])).toThrow("--epochs must be a positive integer, got '2.5'");
    expect(() => parseArgs(['--lr', '-1'])).toThrow("--lr must be a positive number, got '-1'");
    expect(() => parseArgs(['--epochs'])).toThrow('--epochs needs a value (n)');
    expect(() => parseArgs(['--eval-only'])).toThrow('--eval-only needs --resume <checkpoint>');
    expect(() => parseArgs(['spirals', 'mnist'])).toThrow("unexpected argument 'mnist'");
  });

  it('bad config keys name the key and the allowed ones', () => {
    const dir = tempDir();
    const write = (obj: unknown) => {
      const p = join(dir, `c${Math.random()}.json`);
      writeFileSync(p, JSON.stringify(obj));
      return p;
    };
    const err = (obj: unknown, example = 'spirals') => {
      try {
        plan([example, '--config', write(obj)], { env: {}, cwd: dir });
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(err({ epoch: 3 })).toMatch(
      /unknown key 'epoch' in config .*\. Allowed keys: example, backend, epochs, batchSize, seed, optimizer, schedule, model, data$/,
    );
    expect(err({ model: { hiden: [8] } })).toMatch(
      /unknown key 'hiden' in config .*: model \(example spirals\)\. Allowed keys: hidden, batchNorm$/,
    );
    expect(err({ model: { hidden: 8 } })).toContain(
      'model.hidden must be an array of positive integers, got 8',
    );
    expect(err({ optimizer: { name: 'lbfgs' } })).toContain(
      'unknown optimizer "lbfgs". Allowed: sgd, adam, adamw',
    );
    expect(err({ schedule: { type: 'step', minLr: 0.1 } })).toContain("unknown key 'minLr' in config");
    expect(err({ schedule: { type: 'exp' } })).toContain(
      'unknown schedule type "exp". Allowed: constant, step, cosine',
    );
    expect(err({ backend: 'gpu' })).toContain('unknown backend "gpu". Allowed: auto, cpu, wasm, webgpu');
    expect(err({ epochs: 0 })).toContain('epochs must be a positive integer, got 0');
    expect(err({ example: 'mnist' })).toContain("is for example 'mnist', but 'spirals' was asked for");
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{ "epochs": ');
    expect(() => plan(['--config', notJson], { env: {}, cwd: dir })).toThrow('is not valid JSON');
  });

  it('--help prints every option and example', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const name of Object.keys(EXAMPLES)) expect(r.out).toContain(name);
    expect(r.out).toContain('--eval-only');
  });
});

describe('configuration precedence: flag > NABLA_BACKEND > config file > defaults', () => {
  const dir = tempDir();
  const cfgPath = join(dir, 'c.json');
  writeFileSync(
    cfgPath,
    JSON.stringify({ backend: 'cpu', epochs: 7, optimizer: { lr: 0.5 }, model: { hidden: [8] } }),
  );

  it('defaults when nothing is given; spirals is the default example', () => {
    const p = plan([], { env: {}, cwd: dir });
    if (p === 'help') throw new Error('unexpected');
    expect(p.config).toEqual({ ...EXAMPLES.spirals.defaults });
    expect(p.outDir).toBe(join(dir, 'runs', 'spirals'));
  });

  it('the config file overrides defaults, key by key', () => {
    const p = plan(['spirals', '--config', cfgPath], { env: {}, cwd: dir });
    if (p === 'help') throw new Error('unexpected');
    expect(p.config.backend).toBe('cpu');
    expect(p.config.epochs).toBe(7);
    expect(p.config.optimizer).toEqual({ ...EXAMPLES.spirals.defaults.optimizer, lr: 0.5 });
    expect(p.config.model).toEqual({ hidden: [8], batchNorm: true });
  });

  it('NABLA_BACKEND overrides the config file; the flag overrides both', () => {
    const env = { NABLA_BACKEND: 'webgpu' };
    const a = plan(['spirals', '--config', cfgPath], { env, cwd: dir });
    const b = plan(
      [
        'spirals',
        '--config',
        cfgPath,
        '--backend',
        'wasm',
        '--epochs',
        '2',
        '--lr',
        '0.1',
        '--optimizer',
        'sgd',
      ],
      { env, cwd: dir },
    );
    if (a === 'help' || b === 'help') throw new Error('unexpected');
    expect(a.config.backend).toBe('webgpu');
    expect(b.config.backend).toBe('wasm');
    expect(b.config.epochs).toBe(2);
    expect(b.config.optimizer.lr).toBe(0.1);
    expect(b.config.optimizer.name).toBe('sgd');
  });

  it('every configs/<example>.json is valid and equals the example defaults', () => {
    for (const [name, ex] of Object.entries(EXAMPLES)) {
      const file = join(configsDir, `${name}.json`);
      const { $schema, ...config } = JSON.parse(readFileSync(file, 'utf8'));
      expect(config).toEqual(ex.defaults);
      const p = plan(['--config', file], { env: {}, cwd: dir });
      if (p === 'help') throw new Error('unexpected');
      expect(p.config.example).toBe(name);
    }
  });
});

describe('learning-rate schedules', () => {
  const base = EXAMPLES.spirals.defaults;
  it('step decays by gamma every stepSize epochs; cosine goes from lr to minLr', () => {
    const step = {
      ...base,
      optimizer: { ...base.optimizer, lr: 1 },
      schedule: { type: 'step' as const, stepSize: 2, gamma: 0.5 },
    };
    expect([0, 1, 2, 3, 4].map((e) => scheduledLr(step, e))).toEqual([1, 1, 0.5, 0.5, 0.25]);
    const cos = {
      ...base,
      epochs: 10,
      optimizer: { ...base.optimizer, lr: 1 },
      schedule: { type: 'cosine' as const, minLr: 0.1 },
    };
    expect(scheduledLr(cos, 0)).toBe(1);
    expect(scheduledLr(cos, 5)).toBeCloseTo(0.55, 12);
    expect(scheduledLr(cos, 9)).toBeGreaterThan(0.1);
  });
});

describe('backend availability', () => {
  it('a backend that cannot start is an error naming it and why (or, where it starts, it trains)', async () => {
    const { initBackend } = await import('@nabla/core');
    for (const name of ['wasm', 'webgpu']) {
      // Probe with core directly, independently of the CLI's own code.
      let starts = true;
      try {
        await import(/* @vite-ignore */ `@nabla/backend-${name}`);
        await initBackend(name);
      } catch {
        starts = false;
      }
      const r = await runCli([
        'regression',
        '--backend',
        name,
        '--epochs',
        '1',
        '--out',
        'o',
        '--config',
        writeTiny(),
      ]);
      if (starts) {
        expect(r.code).toBe(0);
        expect(r.out).toContain(`training regression on ${name}`);
      } else {
        expect(r.code).toBe(1);
        expect(r.err).toMatch(
          new RegExp(`^nabla-train: backend '${name}' (is unavailable|could not start): .+`),
        );
      }
    }
  });
});

describe('the default backend', () => {
  it('auto is wasm where it starts, else cpu with a note giving the reason', async () => {
    const { selectBackend } = await import('../src/backends.js');
    let wasmError: string | null = null;
    try {
      await selectBackend('wasm');
    } catch (err) {
      wasmError = (err as Error).message;
    }
    const chosen = await selectBackend('auto');
    if (wasmError === null) expect(chosen).toEqual({ name: 'wasm' });
    else expect(chosen).toEqual({ name: 'cpu', note: `${wasmError}; using cpu` });
    expect(EXAMPLES.spirals.defaults.backend).toBe('auto');
  });
});

function writeTiny(): string {
  const p = join(tempDir(), 'tiny.json');
  writeFileSync(p, JSON.stringify({ data: { samples: 100 } }));
  return p;
}
