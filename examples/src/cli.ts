/**
 * `nabla-train [example] [options]`: resolves the config (flag > NABLA_BACKEND > config file
 * > example defaults), starts the backend, trains or evaluates, and says where the files went.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { BackendUnavailableError, selectBackend } from './backends.js';
import { type Checkpoint, CheckpointError, loadCheckpoint } from './checkpoint.js';
import { EXAMPLES } from './examples/index.js';
import {
  BACKENDS,
  closest,
  mergeConfig,
  parseArgs,
  type RunConfig,
  readConfigFile,
  UsageError,
  usage,
} from './options.js';
import type { ProgressSink } from './progress.js';
import { DivergedError, type TrainResult, train } from './train.js';

/** Where the CLI reads and writes; tests pass their own. */
export interface CliIO {
  env: Record<string, string | undefined>;
  /** Directory relative paths are resolved against. */
  cwd: string;
  out: ProgressSink;
  err: (text: string) => void;
  /** Told the resolved plan before training starts (the process entry uses it for Ctrl-C). */
  onPlan?: (plan: Plan) => void;
  /** Told after each checkpoint is written (the process entry uses it for Ctrl-C). */
  onCheckpoint?: (saved: { path: string; epoch: number; runId: string }) => void;
}

function exampleDefaults(name: string): RunConfig {
  const ex = EXAMPLES[name];
  if (!ex)
    throw new UsageError(
      `unknown example '${name}'. Available examples: ${Object.keys(EXAMPLES).join(', ')}`,
    );
  return ex.defaults;
}

/** The resolved plan of a CLI invocation, before anything runs. */
export interface Plan {
  config: RunConfig;
  outDir: string;
  resume?: Checkpoint;
  /** The checkpoint file resumed from. */
  resumePath?: string;
  evalOnly: boolean;
  /** Steps run op by op (`--eager`) instead of compiled. */
  eager: boolean;
  /** Where the backend name came from. */
  backendFrom: 'flag' | 'NABLA_BACKEND' | 'config';
}

/** Resolves the CLI arguments into a run plan (throws {@link UsageError} on mistakes). */
export function plan(argv: string[], io: Pick<CliIO, 'env' | 'cwd'>): Plan | 'help' {
  const args = parseArgs(argv);
  if (args.help) return 'help';
  const at = (p: string) => (isAbsolute(p) ? p : resolve(io.cwd, p));
  let resume: Checkpoint | undefined;
  if (args.resume) {
    const path = at(args.resume);
    if (!existsSync(path)) throw new UsageError(`checkpoint ${path} does not exist`);
    resume = loadCheckpoint(path); // a CheckpointError names the wrong entry
  }
  // The example: positional argument, else the config's, else the checkpoint's, else spirals.
  const fileConfig = args.config ? readConfigFile(at(args.config), exampleDefaults, args.example) : {};
  const name = args.example ?? fileConfig.example ?? resume?.example ?? 'spirals';
  const defaults = exampleDefaults(name);
  if (fileConfig.example && fileConfig.example !== name) {
    throw new UsageError(
      `config ${args.config} is for example '${fileConfig.example}', but '${name}' was asked for`,
    );
  }
  if (resume && resume.example !== name)
    throw new UsageError(`checkpoint ${args.resume} is for example '${resume.example}', not '${name}'`);
  // A resumed run continues with the configuration it was started with, unless flags say otherwise.
  let config = mergeConfig(resume ? mergeConfig(defaults, resume.config) : defaults, fileConfig);
  const flags: Partial<RunConfig> = {};
  if (args.epochs !== undefined) flags.epochs = args.epochs;
  if (args.batchSize !== undefined) flags.batchSize = args.batchSize;
  if (args.seed !== undefined) flags.seed = args.seed;
  config = mergeConfig(config, {
    ...flags,
    optimizer: {
      ...(args.optimizer ? { name: args.optimizer } : {}),
      ...(args.lr !== undefined ? { lr: args.lr } : {}),
    },
  });
  config.example = name;
  // An empty NABLA_BACKEND counts as unset.
  const envBackend = io.env.NABLA_BACKEND?.trim() || undefined;
  if (args.backend === undefined && envBackend && !(BACKENDS as readonly string[]).includes(envBackend)) {
    const near = closest(envBackend, BACKENDS);
    throw new UsageError(
      `unknown backend '${envBackend}' from the environment (NABLA_BACKEND=${envBackend})${near ? ` (did you mean '${near}'?)` : ''}. Allowed: ${BACKENDS.join(', ')}; change or unset NABLA_BACKEND, or pass --backend`,
    );
  }
  const backendFrom = args.backend !== undefined ? 'flag' : envBackend ? 'NABLA_BACKEND' : 'config';
  config.backend = args.backend ?? envBackend ?? config.backend;
  if (resume && !args.evalOnly && resume.epoch >= config.epochs)
    throw new UsageError(
      `checkpoint ${args.resume} is of a finished run (${resume.epoch} of ${config.epochs} epochs); pass --epochs with more than ${resume.epoch} to train further, or --eval-only to evaluate it`,
    );
  const outDir = at(args.out ?? `runs/${name}`);
  return {
    config,
    outDir,
    resume,
    resumePath: args.resume ? at(args.resume) : undefined,
    evalOnly: args.evalOnly,
    eager: args.eager,
    backendFrom,
  };
}

/** Runs the CLI; returns the process exit code (0 ok, 2 usage error, 1 failure). */
export async function main(argv: string[], io: CliIO): Promise<{ code: number; result?: TrainResult }> {
  const examples = Object.values(EXAMPLES);
  try {
    const p = plan(argv, io);
    if (p === 'help') {
      io.out.write(`${usage(examples)}\n`);
      return { code: 0 };
    }
    io.onPlan?.(p);
    const backend = await selectBackend(p.config.backend);
    if (backend.note) io.err(`note: ${backend.note}\n`);
    const ex = EXAMPLES[p.config.example];
    const where = `${backend.name}${p.backendFrom === 'NABLA_BACKEND' ? ' (from NABLA_BACKEND)' : ''}`;
    if (p.evalOnly && p.resume) {
      io.out.write(
        `evaluating ${ex.name} on ${where}: ${relative(io.cwd, p.resumePath!) || p.resumePath}, after epoch ${p.resume.epoch} of ${p.resume.config.epochs}` +
          `${p.resume.runId ? ` (run ${p.resume.runId})` : ''}\n`,
      );
    } else {
      io.out.write(
        `training ${ex.name} on ${where}: ${p.config.epochs} epochs, batch ${p.config.batchSize}, ` +
          `${p.config.optimizer.name} lr ${p.config.optimizer.lr} (${p.config.schedule.type}), seed ${p.config.seed}` +
          `${p.eager ? ', eager' : ''}` +
          `${p.resume ? `, resuming run ${p.resume.runId ?? '(unnamed)'} after epoch ${p.resume.epoch}` : ''}\n`,
      );
    }
    const result = await train({
      example: ex,
      config: { ...p.config, backend: backend.name },
      backend: backend.name,
      outDir: p.outDir,
      resumeFrom: p.resume,
      evalOnly: p.evalOnly,
      eager: p.eager,
      sink: io.out,
      warn: (line) => io.err(`${line}\n`),
      onCheckpoint: io.onCheckpoint,
    });
    if (result.files.length) {
      const rel = (f: string) => {
        const r = relative(io.cwd, f);
        return r.startsWith('..') ? f : r;
      };
      io.out.write(
        `\nwrote ${result.files.length} files to ${rel(p.outDir)}/:\n${result.files.map((f) => `  ${rel(f)}`).join('\n')}\n`,
      );
      io.out.write(`done in ${result.seconds.toFixed(1)}s\n`);
    }
    return { code: 0, result };
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`nabla-train: ${err.message}\n(run nabla-train --help for usage)\n`);
      return { code: 2 };
    }
    if (err instanceof CheckpointError) {
      io.err(`nabla-train: ${err.message}\n`);
      return { code: 2 };
    }
    if (err instanceof DivergedError) {
      io.err(`nabla-train: ${err.message}\n`);
      return { code: 1 };
    }
    if (err instanceof BackendUnavailableError) {
      io.err(`nabla-train: ${err.message}\n`);
      return { code: 1 };
    }
    throw err;
  }
}
