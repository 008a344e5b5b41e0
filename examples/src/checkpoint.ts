/**
 * Checkpoints: every run's model and optimizer state, the history so far and the config,
 * as one JSON file with tensors stored as base64 little-endian bytes (exact: resuming
 * continues from the very same bits). Written to a temporary file and renamed, so an
 * interrupted save never leaves a broken checkpoint behind.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Tensor, tensor } from '@nabla/core';
import type { Module } from '@nabla/nn';
import type { Optimizer } from '@nabla/optim';
import type { EpochRecord } from './history.js';
import type { RunConfig } from './options.js';

const FORMAT = 'nabla-checkpoint';
const VERSION = 1;

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
  example: string;
  /** Epochs completed. */
  epoch: number;
  config: RunConfig;
  history: EpochRecord[];
  runs: Record<string, RunState>;
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

/** Loads a snapshot into a model and optimizer of the same architecture. */
export function restoreRun(state: RunState, model: Module, optimizer: Optimizer<any>): void {
  const made: Tensor[] = [];
  try {
    model.loadStateDict(decodeDeep(state.model, made) as Record<string, Tensor>);
    optimizer.loadStateDict(decodeDeep(state.optimizer, made) as never);
  } finally {
    for (const t of made) t.dispose();
  }
}

/** Writes `ckpt` to `path` atomically (temporary file in the same directory, then rename). */
export function saveCheckpoint(path: string, ckpt: Checkpoint): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(ckpt));
  renameSync(tmp, path);
}

/** Reads and checks a checkpoint file. */
export function loadCheckpoint(path: string): Checkpoint {
  let parsed: Checkpoint;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
  } catch (err) {
    throw new Error(`cannot read checkpoint ${path}: ${(err as Error).message}`);
  }
  if (parsed?.format !== FORMAT)
    throw new Error(`${path} is not a Nabla checkpoint (no "format": "${FORMAT}")`);
  if (parsed.version !== VERSION)
    throw new Error(`${path} has checkpoint version ${parsed.version}; this build reads version ${VERSION}`);
  return parsed;
}

/** Plain state for a checkpoint. */
export function makeCheckpoint(parts: Omit<Checkpoint, 'format' | 'version'>): Checkpoint {
  return { format: FORMAT, version: VERSION, ...parts };
}
