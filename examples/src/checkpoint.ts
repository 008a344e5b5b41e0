/**
 * Checkpoints: every run's model and optimizer state, the history so far and the config, as one
 * JSON file with tensors stored as base64 little-endian bytes (exact: resuming continues from
 * the very same bits). Each checkpoint names the run that wrote it (`runId`, kept across resumes)
 * and a hash of its config, so a checkpoint from another run is never mistaken for this one's.
 *
 * Writes are atomic and durable: a temporary file beside the target is written, flushed to disk
 * (`fsync`), renamed over the target, and the folder is flushed too. A failed write removes its
 * temporary file and leaves the previous checkpoint untouched; temporary files left by a process
 * that was killed are removed when the next run starts. Reading checks every entry and names the
 * first wrong one ({@link CheckpointError}).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Tensor, tensor } from '@nabla/core';
import type { Module } from '@nabla/nn';
import type { Optimizer } from '@nabla/optim';
import type { EpochRecord } from './history.js';
import type { RunConfig } from './options.js';

const FORMAT = 'nabla-checkpoint';
/** Version 2 added `runId` and `configHash`; version 1 files are still read. */
const VERSION = 2;
const READABLE_VERSIONS = [1, 2];

interface EncodedTensor {
  $tensor: { dtype: 'float32' | 'int32'; shape: number[]; data: string };
}

/** The saved state of one model and its optimizer. */
export interface RunState {
  model: Record<string, EncodedTensor>;
  optimizer: unknown;
}

/** The file's contents. */
export interface Checkpoint {
  format: typeof FORMAT;
  version: number;
  /** Identifies the training run that wrote this file (kept when a run is resumed). */
  runId?: string;
  /** sha256 of the config (without `epochs` and `backend`), see {@link configHash}. */
  configHash?: string;
  example: string;
  /** Epochs completed. */
  epoch: number;
  config: RunConfig;
  history: EpochRecord[];
  runs: Record<string, RunState>;
}

/**
 * A checkpoint that cannot be read or written: wrong contents (the message names the entry),
 * a full disk or a permission problem. The CLI prints it as one line and exits with status 2.
 */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** A new run id: 12 hex digits. */
export function newRunId(): string {
  return randomBytes(6).toString('hex');
}

/** Keys in sorted order, so the same config always serialises (and hashes) the same. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/**
 * The hash of what defines a run's numbers: the config without `epochs` (a resumed run may be
 * extended) and `backend` (where it runs). 16 hex digits of sha256.
 */
export function configHash(config: RunConfig): string {
  const { epochs: _epochs, backend: _backend, ...rest } = config;
  return createHash('sha256')
    .update(JSON.stringify(canonical(rest)))
    .digest('hex')
    .slice(0, 16);
}

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && (v as { __nablaTensor?: boolean }).__nablaTensor === true;
}

async function encodeTensor(t: Tensor): Promise<EncodedTensor> {
  const data = await t.data();
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return {
    $tensor: { dtype: t.dtype as 'float32' | 'int32', shape: [...t.shape], data: bytes.toString('base64') },
  };
}

function decodeTensor(e: EncodedTensor['$tensor']): Tensor {
  const bytes = Buffer.from(e.data, 'base64');
  // Copy into a fresh, aligned buffer: Buffer's pool offset may not be a multiple of 4.
  const ab = new ArrayBuffer(bytes.length);
  new Uint8Array(ab).set(bytes);
  const values = e.dtype === 'int32' ? new Int32Array(ab) : new Float32Array(ab);
  return tensor(values, { shape: e.shape, dtype: e.dtype });
}

/** Replaces every tensor in a JSON-like value (deeply) by its encoding. */
async function encodeDeep(v: unknown): Promise<unknown> {
  if (isTensor(v)) return encodeTensor(v);
  if (Array.isArray(v)) return Promise.all(v.map(encodeDeep));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = await encodeDeep(x);
    return out;
  }
  return v;
}

/** Decodes tensors (deeply); the made tensors are pushed to `made` so the caller can free them. */
function decodeDeep(v: unknown, made: Tensor[]): unknown {
  if (typeof v === 'object' && v !== null && '$tensor' in v) {
    const t = decodeTensor((v as EncodedTensor).$tensor);
    made.push(t);
    return t;
  }
  if (Array.isArray(v)) return v.map((x) => decodeDeep(x, made));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = decodeDeep(x, made);
    return out;
  }
  return v;
}

/** Snapshot of a model and its optimizer (reads the tensors back from the device). */
export async function captureRun(model: Module, optimizer: Optimizer<any>): Promise<RunState> {
  return {
    model: (await encodeDeep(model.stateDict())) as Record<string, EncodedTensor>,
    optimizer: await encodeDeep(optimizer.stateDict()),
  };
}

/**
 * Loads a snapshot into a model and optimizer of the same architecture; a snapshot that does not
 * fit them is a {@link CheckpointError} naming the run.
 */
export function restoreRun(state: RunState, model: Module, optimizer: Optimizer<any>, run = 'main'): void {
  const made: Tensor[] = [];
  try {
    try {
      model.loadStateDict(decodeDeep(state.model, made) as Record<string, Tensor>);
    } catch (err) {
      throw new CheckpointError(`runs.${run}.model does not fit the model: ${(err as Error).message}`);
    }
    try {
      optimizer.loadStateDict(decodeDeep(state.optimizer, made) as never);
    } catch (err) {
      throw new CheckpointError(
        `runs.${run}.optimizer does not fit the optimizer: ${(err as Error).message}`,
      );
    }
  } finally {
    for (const t of made) t.dispose();
  }
}

/** What a file system write needs (tests pass one that fails like a full disk). */
export interface WriteFs {
  openSync: typeof openSync;
  writeSync: (fd: number, data: string) => number;
  fsyncSync: typeof fsyncSync;
  closeSync: typeof closeSync;
  renameSync: typeof renameSync;
}

const realFs: WriteFs = { openSync, writeSync, fsyncSync, closeSync, renameSync };

const tmpPattern = (file: string) =>
  new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.tmp$`);

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `<checkpoint>.<pid>.tmp` files beside `path` left by processes that no longer run
 * (a killed save). Returns the removed paths.
 */
export function removeStaleTemps(path: string): string[] {
  const dir = dirname(path);
  const pattern = tmpPattern(basename(path));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(join(dir, name));
  }
  return removed;
}

const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
};

/**
 * Writes `ckpt` to `path` atomically and durably (see the file comment). A failure removes the
 * temporary file and throws a {@link CheckpointError} (one line: the path, the cause, and that
 * the previous checkpoint is unchanged).
 */
export function saveCheckpoint(path: string, ckpt: Checkpoint, fs: WriteFs = realFs): void {
  const tmp = `${path}.${process.pid}.tmp`;
  let fd: number | null = null;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, JSON.stringify(ckpt));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, path);
  } catch (err) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {}
    }
    rmSync(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    const cause = (e.code && WRITE_ERRORS[e.code]) ?? e.message;
    throw new CheckpointError(
      `cannot write checkpoint ${path}: ${cause}${e.code ? ` (${e.code})` : ''}; the previous checkpoint there, if any, is unchanged`,
    );
  }
  // The rename is durable only once the folder's entry is on disk too (not possible everywhere).
  try {
    const dirFd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {}
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Checks one encoded tensor; returns what is wrong, or null. */
function tensorProblem(v: unknown): string | null {
  if (!isObject(v) || !isObject(v.$tensor)) return 'is not an encoded tensor ({"$tensor": ...})';
  const t = v.$tensor;
  if (t.dtype !== 'float32' && t.dtype !== 'int32')
    return `has dtype ${JSON.stringify(t.dtype)} (float32 or int32 expected)`;
  if (!Array.isArray(t.shape) || !t.shape.every(isCount))
    return `has shape ${JSON.stringify(t.shape)} (an array of non-negative integers expected)`;
  if (typeof t.data !== 'string' || t.data.length % 4 !== 0 || !BASE64.test(t.data))
    return 'has data that is not base64';
  const bytes = (t.data.length / 4) * 3 - (t.data.endsWith('==') ? 2 : t.data.endsWith('=') ? 1 : 0);
  const n = (t.shape as number[]).reduce((a, b) => a * b, 1);
  if (bytes !== n * 4)
    return `has shape [${(t.shape as number[]).join(', ')}] (${n} values, ${n * 4} bytes) but ${bytes} bytes of data`;
  return null;
}

/** Every encoded tensor inside a value, with its path. */
function* tensorsIn(v: unknown, at: string): Generator<[string, unknown]> {
  if (isObject(v) && '$tensor' in v) {
    yield [at, v];
    return;
  }
  if (Array.isArray(v)) for (const [i, x] of v.entries()) yield* tensorsIn(x, `${at}[${i}]`);
  else if (isObject(v)) for (const [k, x] of Object.entries(v)) yield* tensorsIn(x, `${at}.${k}`);
}

/**
 * Checks a parsed checkpoint's structure; throws a {@link CheckpointError} naming the first
 * wrong entry.
 */
export function validateCheckpoint(parsed: unknown, path: string): Checkpoint {
  const bad = (entry: string, what: string) => new CheckpointError(`checkpoint ${path}: ${entry} ${what}`);
  if (!isObject(parsed) || parsed.format !== FORMAT)
    throw new CheckpointError(`${path} is not a Nabla checkpoint (no "format": "${FORMAT}")`);
  if (!READABLE_VERSIONS.includes(parsed.version as number))
    throw new CheckpointError(
      `${path} has checkpoint version ${JSON.stringify(parsed.version)}; this build reads versions ${READABLE_VERSIONS.join(', ')}`,
    );
  if (typeof parsed.example !== 'string') throw bad('"example"', 'must be a string');
  if (!isObject(parsed.config)) throw bad('"config"', 'must be an object');
  const config = parsed.config as unknown as RunConfig;
  if (!isCount(config.epochs) || config.epochs === 0)
    throw bad('"config.epochs"', `must be a positive integer, got ${JSON.stringify(config.epochs)}`);
  if (!isCount(parsed.epoch))
    throw bad('"epoch"', `must be a non-negative integer, got ${JSON.stringify(parsed.epoch)}`);
  if (parsed.epoch > config.epochs)
    throw bad('"epoch"', `is ${parsed.epoch}, more than the run's ${config.epochs} epochs (config.epochs)`);
  if (parsed.version === 2) {
    if (typeof parsed.runId !== 'string' || !/^[0-9a-f]{12}$/.test(parsed.runId))
      throw bad('"runId"', `must be 12 hex digits, got ${JSON.stringify(parsed.runId)}`);
    if (parsed.configHash !== configHash(config))
      throw bad(
        '"configHash"',
        `does not match "config" (${JSON.stringify(parsed.configHash)}, the config hashes to "${configHash(config)}"): the config was edited after saving`,
      );
  }
  if (!isObject(parsed.runs) || Object.keys(parsed.runs).length === 0)
    throw bad('"runs"', 'must be an object with one entry per trained model');
  const runNames = Object.keys(parsed.runs);
  if (!Array.isArray(parsed.history)) throw bad('"history"', 'must be an array');
  for (const [i, h] of (parsed.history as unknown[]).entries()) {
    if (!isObject(h) || !runNames.includes(h.run as string) || !isCount(h.epoch))
      throw bad(`"history[${i}]"`, 'is not an epoch record of one of the runs');
    for (const k of ['trainLoss', 'testLoss', 'trainMetric', 'testMetric', 'lr'])
      if (typeof h[k] !== 'number') throw bad(`"history[${i}].${k}"`, 'must be a number');
  }
  for (const run of runNames) {
    const records = (parsed.history as EpochRecord[]).filter((h) => h.run === run).length;
    if (records !== parsed.epoch)
      throw bad('"epoch"', `is ${parsed.epoch}, but "history" has ${records} epochs of run '${run}'`);
    const state = parsed.runs[run];
    if (!isObject(state) || !isObject(state.model))
      throw bad(`"runs.${run}.model"`, 'must be an object of encoded tensors');
    for (const [name, t] of Object.entries(state.model)) {
      const problem = tensorProblem(t);
      if (problem) throw bad(`"runs.${run}.model.${name}"`, problem);
    }
    const opt = state.optimizer;
    if (!isObject(opt) || !Array.isArray(opt.paramGroups) || !isObject(opt.state))
      throw bad(`"runs.${run}.optimizer"`, 'must be an optimizer state dict ({paramGroups, state})');
    for (const [at, t] of tensorsIn(opt.state, `runs.${run}.optimizer.state`)) {
      const problem = tensorProblem(t);
      if (problem) throw bad(`"${at}"`, problem);
    }
  }
  return parsed as unknown as Checkpoint;
}

/** Reads and checks a checkpoint file ({@link CheckpointError} when it cannot be used). */
export function loadCheckpoint(path: string): Checkpoint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(err as Error).message}`);
  }
  return validateCheckpoint(parsed, path);
}

/** Plain state for a checkpoint (the config hash is computed here). */
export function makeCheckpoint(
  parts: Omit<Checkpoint, 'format' | 'version' | 'configHash' | 'runId'> & { runId: string },
): Checkpoint {
  const { runId, ...rest } = parts;
  return { format: FORMAT, version: VERSION, runId, configHash: configHash(parts.config), ...rest };
}
