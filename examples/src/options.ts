/**
 * Command-line options and config files, and how they combine. Precedence, highest first:
 * a command-line flag, then `NABLA_BACKEND` (backend only), then the config file, then the
 * example's defaults. Every mistake is an error that lists what is allowed.
 */
import { readFileSync } from 'node:fs';
import { backendNames } from 'nabla/backends';

/** Optimizers the examples can build. */
export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/**
 * Backend names, from the backend packages' manifests; `auto` means the highest-priority
 * backend that starts (wasm, else cpu; WebGPU only when asked for).
 */
export const BACKENDS: readonly string[] = ['auto', ...backendNames];

/** The optimizer section of a config. */
export interface OptimizerConfig {
  name: OptimizerName;
  lr: number;
  /** SGD only. */
  momentum: number;
  weightDecay: number;
}

/** Learning-rate schedule applied at the start of every epoch. */
export type ScheduleConfig =
  | { type: 'constant' }
  | { type: 'step'; stepSize: number; gamma: number }
  | { type: 'cosine'; minLr: number }
  /** OneCycleLR stepped after every batch, peaking at the optimizer's lr. */
  | { type: 'onecycle'; pctStart: number };

/** Everything a training run needs; a config file holds any subset of it. */
export interface RunConfig {
  example: string;
  backend: string;
  epochs: number;
  batchSize: number;
  seed: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  /** Example-specific model settings (sizes, batch norm on or off). */
  model: Record<string, number | boolean | number[]>;
  /** Example-specific data settings (sample counts, noise). */
  data: Record<string, number>;
}

/** A config file: any part of {@link RunConfig}, nested sections partial too. */
export type PartialConfig = Partial<Omit<RunConfig, 'optimizer' | 'schedule' | 'model' | 'data'>> & {
  optimizer?: Partial<OptimizerConfig>;
  schedule?: Partial<ScheduleConfig> & { type?: ScheduleConfig['type'] };
  model?: Record<string, number | boolean | number[]>;
  data?: Record<string, number>;
};

/** What the command line said. */
export interface CliArgs {
  example?: string;
  backend?: string;
  config?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: OptimizerName;
  seed?: number;
  out?: string;
  resume?: string;
  evalOnly: boolean;
  /** Run every step op by op instead of compiled (to compare, or to debug a step). */
  eager: boolean;
  help: boolean;
}

/** Options and whether they take a value. */
export const CLI_OPTIONS: Record<string, { value: string | null; help: string }> = {
  '--backend': {
    value: backendNames.join('|'),
    help: 'backend to run on (default: wasm where it starts, else cpu)',
  },
  '--config': { value: 'path.json', help: 'config file (see examples/configs/)' },
  '--epochs': { value: 'n', help: 'number of epochs' },
  '--batch-size': { value: 'n', help: 'mini-batch size' },
  '--lr': { value: 'x', help: 'learning rate' },
  '--optimizer': { value: OPTIMIZERS.join('|'), help: 'optimizer' },
  '--seed': { value: 'n', help: 'random seed (same seed and backend: same numbers)' },
  '--out': { value: 'dir', help: 'where curves, pictures and checkpoints go (default runs/<example>)' },
  '--resume': { value: 'checkpoint.json', help: 'continue training from a checkpoint' },
  '--eval-only': { value: null, help: 'load --resume checkpoint and report test metrics only' },
  '--eager': { value: null, help: 'run steps op by op instead of compiled (same numbers, slower)' },
  '--help': { value: null, help: 'show this help' },
};

/** A user mistake: the CLI prints the message (no stack) and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

function positiveInt(flag: string, text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v <= 0)
    throw new UsageError(`${flag} must be a positive integer, got '${text}'`);
  return v;
}

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/**
 * The candidate nearest to `word` when it is a likely typo (at most 2 edits, or a prefix of
 * exactly one candidate), else null.
 */
export function closest(word: string, candidates: readonly string[]): string | null {
  const prefixed = candidates.filter((c) => c.startsWith(word) && word.length >= 3);
  if (prefixed.length === 1) return prefixed[0];
  let best: string | null = null;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/**
 * Parses `argv` (without node and the script). Not `node:util`'s `parseArgs`: its strict mode
 * reports an unknown flag without the nearest one and reads `--lr -1` as two options, so using
 * it would mean walking its tokens again for these messages; the tokenizing here is 20 lines.
 */
export function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { evalOnly: false, eager: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith('-')) {
      if (args.example !== undefined) {
        throw new UsageError(
          `unexpected argument '${token}': give one example name (already have '${args.example}')`,
        );
      }
      args.example = token;
      continue;
    }
    const eq = token.indexOf('=');
    const flag = eq >= 0 ? token.slice(0, eq) : token;
    const spec = CLI_OPTIONS[flag === '-h' ? '--help' : flag];
    if (!spec) {
      const near = closest(flag, Object.keys(CLI_OPTIONS));
      throw new UsageError(
        `unknown option '${flag}'${near ? ` (did you mean '${near}'?)` : ''}. Allowed options: ${Object.keys(CLI_OPTIONS).join(', ')}`,
      );
    }
    let value: string | undefined;
    if (spec.value !== null) {
      value = eq >= 0 ? token.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') throw new UsageError(`${flag} needs a value (${spec.value})`);
    } else if (eq >= 0) {
      throw new UsageError(`${flag} takes no value`);
    }
    switch (flag) {
      case '--backend':
        args.backend = value;
        break;
      case '--config':
        args.config = value;
        break;
      case '--epochs':
        args.epochs = positiveInt(flag, value!);
        break;
      case '--batch-size':
        args.batchSize = positiveInt(flag, value!);
        break;
      case '--lr': {
        const lr = Number(value);
        if (!(lr > 0) || !Number.isFinite(lr))
          throw new UsageError(`--lr must be a positive number, got '${value}'`);
        args.lr = lr;
        break;
      }
      case '--optimizer':
        if (!(OPTIMIZERS as readonly string[]).includes(value!)) {
          throw new UsageError(`unknown optimizer '${value}'. Allowed: ${OPTIMIZERS.join(', ')}`);
        }
        args.optimizer = value as OptimizerName;
        break;
      case '--seed': {
        const s = Number(value);
        if (!Number.isInteger(s) || s < 0)
          throw new UsageError(`--seed must be a non-negative integer, got '${value}'`);
        args.seed = s;
        break;
      }
      case '--out':
        args.out = value;
        break;
      case '--resume':
        args.resume = value;
        break;
      case '--eval-only':
        args.evalOnly = true;
        break;
      case '--eager':
        args.eager = true;
        break;
      default:
        args.help = true;
    }
  }
  if (args.evalOnly && !args.resume)
    throw new UsageError('--eval-only needs --resume <checkpoint> to know which model to evaluate');
  return args;
}

/** The help text. */
export function usage(examples: { name: string; description: string }[]): string {
  const width = Math.max(
    ...Object.entries(CLI_OPTIONS).map(([k, v]) => k.length + (v.value ? v.value.length + 1 : 0)),
  );
  return [
    'Usage: nabla-train [example] [options]      (npm run train -- [example] [options])',
    '',
    'Examples (default spirals):',
    ...examples.map((e) => `  ${e.name.padEnd(11)} ${e.description}`),
    '',
    'Options:',
    ...Object.entries(CLI_OPTIONS).map(
      ([k, v]) => `  ${`${k}${v.value ? ` ${v.value}` : ''}`.padEnd(width + 2)} ${v.help}`,
    ),
    '',
    'Precedence: flag > NABLA_BACKEND > config file > defaults.',
  ].join('\n');
}

const TOP_KEYS = [
  'example',
  'backend',
  'epochs',
  'batchSize',
  'seed',
  'optimizer',
  'schedule',
  'model',
  'data',
];
const OPTIMIZER_KEYS = ['name', 'lr', 'momentum', 'weightDecay'];
/** The keys each schedule type allows. */
export const SCHEDULE_KEYS: Record<string, string[]> = {
  constant: ['type'],
  step: ['type', 'stepSize', 'gamma'],
  cosine: ['type', 'minLr'],
  onecycle: ['type', 'pctStart'],
};

function checkKeys(where: string, obj: unknown, allowed: string[]): Record<string, unknown> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    throw new UsageError(`${where} must be an object`);
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k))
      throw new UsageError(`unknown key '${k}' in ${where}. Allowed keys: ${allowed.join(', ')}`);
  }
  return obj as Record<string, unknown>;
}

function checkNumber(where: string, v: unknown, test: (n: number) => boolean, what: string): void {
  if (typeof v !== 'number' || !test(v))
    throw new UsageError(`${where} must be ${what}, got ${JSON.stringify(v)}`);
}

/**
 * Checks a config's structure and values against the example's model and data keys
 * (`defaults`), throwing a {@link UsageError} naming the key and what is allowed.
 */
export function validateConfig(cfg: unknown, defaults: RunConfig, source: string): PartialConfig {
  // "$schema" points editors at configs/schema.json; it is not part of the run.
  const isObject = typeof cfg === 'object' && cfg !== null && !Array.isArray(cfg);
  const { $schema, ...rest } = isObject ? (cfg as Record<string, unknown>) : {};
  if ($schema !== undefined && typeof $schema !== 'string')
    throw new UsageError(`config ${source}: $schema must be a string (the path or URL of a JSON Schema)`);
  const top = checkKeys(`config ${source}`, isObject ? rest : cfg, TOP_KEYS);
  if (top.backend !== undefined && !(BACKENDS as readonly string[]).includes(top.backend as string)) {
    throw new UsageError(
      `config ${source}: unknown backend ${JSON.stringify(top.backend)}. Allowed: ${BACKENDS.join(', ')}`,
    );
  }
  for (const k of ['epochs', 'batchSize'] as const) {
    if (top[k] !== undefined)
      checkNumber(
        `config ${source}: ${k}`,
        top[k],
        (n) => Number.isInteger(n) && n > 0,
        'a positive integer',
      );
  }
  if (top.seed !== undefined)
    checkNumber(
      `config ${source}: seed`,
      top.seed,
      (n) => Number.isInteger(n) && n >= 0,
      'a non-negative integer',
    );
  if (top.optimizer !== undefined) {
    const o = checkKeys(`config ${source}: optimizer`, top.optimizer, OPTIMIZER_KEYS);
    if (o.name !== undefined && !(OPTIMIZERS as readonly string[]).includes(o.name as string)) {
      throw new UsageError(
        `config ${source}: unknown optimizer ${JSON.stringify(o.name)}. Allowed: ${OPTIMIZERS.join(', ')}`,
      );
    }
    for (const k of ['lr', 'momentum', 'weightDecay']) {
      if (o[k] !== undefined)
        checkNumber(
          `config ${source}: optimizer.${k}`,
          o[k],
          (n) => n >= 0 && Number.isFinite(n),
          'a non-negative number',
        );
    }
  }
  if (top.schedule !== undefined) {
    const s = checkKeys(`config ${source}: schedule`, top.schedule, [
      'type',
      'stepSize',
      'gamma',
      'minLr',
      'pctStart',
    ]);
    const type = (s.type as string | undefined) ?? defaults.schedule.type;
    const allowed = SCHEDULE_KEYS[type];
    if (!allowed)
      throw new UsageError(
        `config ${source}: unknown schedule type ${JSON.stringify(type)}. Allowed: ${Object.keys(SCHEDULE_KEYS).join(', ')}`,
      );
    checkKeys(`config ${source}: schedule (type ${type})`, s, allowed);
  }
  for (const section of ['model', 'data'] as const) {
    if (top[section] === undefined) continue;
    const sec = checkKeys(
      `config ${source}: ${section} (example ${defaults.example})`,
      top[section],
      Object.keys(defaults[section]),
    );
    for (const [k, v] of Object.entries(sec)) {
      const want = defaults[section][k];
      const ok = Array.isArray(want)
        ? Array.isArray(v) && v.every((n) => Number.isInteger(n) && n > 0)
        : typeof v === typeof want && (typeof v !== 'number' || Number.isFinite(v));
      if (!ok) {
        const kind = Array.isArray(want) ? 'an array of positive integers' : `a ${typeof want}`;
        throw new UsageError(`config ${source}: ${section}.${k} must be ${kind}, got ${JSON.stringify(v)}`);
      }
    }
  }
  return top as PartialConfig;
}

/** Reads and validates a JSON config file. */
export function readConfigFile(
  path: string,
  defaultsFor: (example: string) => RunConfig,
  example?: string,
): PartialConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const name = example ?? (parsed as { example?: string })?.example ?? 'spirals';
  return validateConfig(parsed, defaultsFor(name), path);
}

/** `base` with `over` laid on top, nested sections merged key by key. */
export function mergeConfig(base: RunConfig, over: PartialConfig): RunConfig {
  const schedule =
    over.schedule?.type && over.schedule.type !== base.schedule.type
      ? (over.schedule as ScheduleConfig)
      : ({ ...base.schedule, ...over.schedule } as ScheduleConfig);
  return {
    ...base,
    ...over,
    optimizer: { ...base.optimizer, ...over.optimizer },
    schedule,
    model: { ...base.model, ...over.model },
    data: { ...base.data, ...over.data },
  } as RunConfig;
}

/**
 * The learning rate of `epoch` (0-based) under a per-epoch schedule, in closed form (the trainer
 * itself steps `@nabla/optim` schedulers, see `schedulers.ts`; `onecycle` gives its peak here).
 */
export function scheduledLr(cfg: RunConfig, epoch: number): number {
  const lr = cfg.optimizer.lr;
  const s = cfg.schedule;
  if (s.type === 'step') return lr * s.gamma ** Math.floor(epoch / s.stepSize);
  if (s.type === 'cosine')
    return s.minLr + ((lr - s.minLr) * (1 + Math.cos((Math.PI * epoch) / Math.max(1, cfg.epochs)))) / 2;
  return lr;
}
