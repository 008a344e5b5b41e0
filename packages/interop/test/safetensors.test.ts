import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@nabla/backend-cpu';
import { manualSeed, setBackend, tensor } from '@nabla/core';
import { BatchNorm1d, Linear, Sequential } from '@nabla/nn';
import { held } from '@nabla/test-kit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  fromSafetensors,
  load,
  type RawTensor,
  SafetensorsError,
  save,
  toSafetensors,
} from '../src/index.js';
import { makeMlp } from './mlp.js';

beforeAll(async () => {
  await setBackend('cpu');
});

/** Builds a file from a header object and a data section, for hand-made corrupt files. */
function rawFile(header: unknown, data: Uint8Array, headerText = JSON.stringify(header)): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function headerOf(bytes: Uint8Array): Record<string, any> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
}

async function stateValues(m: { stateDict(): Record<string, { data(): Promise<ArrayLike<number>> }> }) {
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(m.stateDict())) out[k] = Array.from(await t.data());
  return out;
}

describe('safetensors encoding', () => {
  it('writes the layout: LE u64 header length, JSON, 8-byte aligned little-endian data', () => {
    const bytes = encodeSafetensors([
      ['a', { dtype: 'F32', shape: [2], data: new Float32Array([1.5, -2]) }],
      ['n', { dtype: 'I64', shape: [], data: new Int32Array([-3]) }],
    ]);
    const view = new DataView(bytes.buffer);
    const n = Number(view.getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = headerOf(bytes);
    expect(header).toEqual({
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      n: { dtype: 'I64', shape: [], data_offsets: [8, 16] },
    });
    expect(bytes.length).toBe(8 + n + 16);
    expect(view.getFloat32(8 + n, true)).toBe(1.5);
    expect(view.getFloat32(8 + n + 4, true)).toBe(-2);
    expect(view.getBigInt64(8 + n + 8, true)).toBe(-3n); // sign-extended to 64 bits
  });

  it('round-trips arbitrary F32/I32/I64 tensors (property)', () => {
    const entry = fc.record({
      dtype: fc.constantFrom('F32', 'I32', 'I64'),
      shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== '__metadata__'),
          entry,
          { maxKeys: 5 },
        ),
        (spec) => {
          const tensors: [string, RawTensor][] = Object.entries(spec).map(([name, e], j) => {
            const count = e.shape.reduce((a, b) => a * b, 1);
            const data =
              e.dtype === 'F32'
                ? Float32Array.from({ length: count }, (_, i) => Math.fround(Math.sin(e.seed + i) * 1e3))
                : Int32Array.from({ length: count }, (_, i) => (e.seed + i * 2654435761 + j) | 0);
            return [name, { dtype: e.dtype as RawTensor['dtype'], shape: e.shape, data }];
          });
          const decoded = decodeSafetensors(encodeSafetensors(tensors));
          expect([...decoded.tensors.keys()]).toEqual(tensors.map(([n]) => n));
          for (const [name, t] of tensors) expect(decoded.tensors.get(name)).toEqual(t);
          expect(decoded.metadata).toEqual({ format: 'pt' });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('treats names like __proto__ and constructor as plain tensor names', async () => {
    const names = ['__proto__', 'constructor', 'toString'];
    const bytes = encodeSafetensors(
      names.map((n, i) => [n, { dtype: 'F32', shape: [1], data: new Float32Array([i]) }]),
    );
    expect([...decodeSafetensors(bytes).tensors.keys()]).toEqual(names);
    const sd = fromSafetensors(bytes);
    expect(Object.keys(sd)).toEqual(names);
    expect(Object.getPrototypeOf(sd)).toBe(Object.prototype);
    expect(await sd['constructor' as string].item()).toBe(1);
    for (const t of Object.values(sd)) t.dispose();
    // Such names are unexpected for a model, not silently matched against Object.prototype.
    const model = new Linear(1, 1);
    await expect(load(model, bytes, { strict: false })).resolves.toBeUndefined();
    await expect(load(model, bytes)).rejects.toThrow(
      /not in the model: '__proto__', 'constructor', 'toString'/,
    );
    model.dispose();
  });

  it('writes PyTorch names and dtypes from a state dict: F32, and I64 for num_batches_tracked', async () => {
    const model = makeMlp();
    const bytes = await toSafetensors(model.stateDict());
    const header = headerOf(bytes);
    expect(Object.keys(header)).toEqual(['__metadata__', ...Object.keys(model.stateDict())]);
    expect(Object.keys(header)).toContain('1.running_var');
    expect(header['1.num_batches_tracked']).toMatchObject({ dtype: 'I64', shape: [] });
    expect(header['0.weight']).toMatchObject({ dtype: 'F32', shape: [16, 6] });
    model.dispose();
  });
});

describe('save / load', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nabla-interop-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves to a file atomically (no temp file left) and loads it back into a fresh model', async () => {
    manualSeed(3);
    const a = makeMlp();
    const bn = a.at(1) as BatchNorm1d;
    a.forward(
      tensor(
        new Float32Array(48).map((_, i) => Math.sin(i) * 3),
        { shape: [8, 6] },
      ),
    ); // moves running stats and the counter
    const sub = await mkdtemp(join(dir, 'ok-'));
    const path = join(sub, 'model.safetensors');
    await writeFile(path, 'old contents');
    const bytes = await save(a, path);
    expect(await readdir(sub)).toEqual(['model.safetensors']);
    expect(new Uint8Array(await readFile(path))).toEqual(bytes);

    manualSeed(4);
    const b = makeMlp();
    expect(await stateValues(b)).not.toEqual(await stateValues(a));
    await load(b, path);
    expect(await stateValues(b)).toEqual(await stateValues(a));
    expect(await bn.numBatchesTracked!.item()).toBe(1);
    const loaded = (b.at(1) as BatchNorm1d).numBatchesTracked!;
    expect(loaded.dtype).toBe('int32');
    expect(await loaded.item()).toBe(1);
    a.dispose();
    b.dispose();
  });

  it('a failed write leaves the existing file untouched and no temporary file behind', async () => {
    const model = new Linear(2, 2);
    const sub = await mkdtemp(join(dir, 'fail-'));
    const target = join(sub, 'occupied');
    await mkdir(join(target, 'child'), { recursive: true }); // renaming a file over a non-empty directory fails
    await expect(save(model, target)).rejects.toThrow();
    expect(await readdir(sub)).toEqual(['occupied']);
    expect(await readdir(target)).toEqual(['child']);
    await expect(save(model, join(sub, 'missing-dir', 'm.safetensors'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(sub)).toEqual(['occupied']);
    model.dispose();
  });

  it('loads from Uint8Array, ArrayBuffer and Blob', async () => {
    manualSeed(5);
    const a = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
    const bytes = await save(a);
    const want = await stateValues(a);
    for (const source of [bytes, bytes.slice().buffer, new Blob([bytes.slice()])]) {
      manualSeed(6);
      const b = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
      await load(b, source);
      expect(await stateValues(b)).toEqual(want);
      b.dispose();
    }
    a.dispose();
  });

  it('fromSafetensors gives tensors with the right dtypes and values', async () => {
    const sd = fromSafetensors(
      encodeSafetensors([
        ['w', { dtype: 'F32', shape: [2, 1], data: new Float32Array([0.25, 4]) }],
        ['c', { dtype: 'I64', shape: [], data: new Int32Array([2 ** 31 - 1]) }],
      ]),
    );
    expect(sd.w.shape).toEqual([2, 1]);
    expect(Array.from(await sd.w.data())).toEqual([0.25, 4]);
    expect(sd.c.dtype).toBe('int32');
    expect(await sd.c.item()).toBe(2 ** 31 - 1);
    for (const t of Object.values(sd)) t.dispose();
  });

  it('reports every name, shape and dtype mismatch in one error and changes nothing', async () => {
    manualSeed(7);
    const model = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
    const before = await stateValues(model);
    const file = encodeSafetensors([
      ['0.weight', { dtype: 'F32', shape: [3, 2], data: new Float32Array(6) }], // transposed shape
      ['0.bias', { dtype: 'F32', shape: [2], data: new Float32Array(2) }],
      ['1.weight', { dtype: 'I32', shape: [2], data: new Int32Array(2) }], // wrong dtype
      ['1.running_mean', { dtype: 'F32', shape: [2], data: new Float32Array(2) }],
      ['1.running_var', { dtype: 'F32', shape: [2], data: new Float32Array(2) }],
      ['1.num_batches_tracked', { dtype: 'I64', shape: [], data: new Int32Array(1) }],
      ['2.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) }], // unexpected
    ]); // and 1.bias is missing
    const err = await load(model, file).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SafetensorsError);
    const msg = (err as Error).message;
    expect(msg).toContain('4 problems');
    expect(msg).toContain(`missing from the file: '1.bias'`);
    expect(msg).toContain(`not in the model: '2.weight'`);
    expect(msg).toContain(`'0.weight': shape [3, 2] in the file, [2, 3] in the model`);
    expect(msg).toContain(`'1.weight': dtype I32 in the file, float32 in the model`);
    expect(await stateValues(model)).toEqual(before);
    // strict: false tolerates the names, never the shapes or dtypes.
    await expect(load(model, file, { strict: false })).rejects.toThrow(/2 problems/);
    model.dispose();
  });

  it('does not leak tensors when loading', async () => {
    const model = makeMlp();
    const bytes = await save(model);
    await load(model, bytes);
    const before = held().tensors; // not memory(): loading awaits
    for (let i = 0; i < 3; i++) await load(model, bytes);
    expect(held().tensors).toBe(before);
    model.dispose();
  });
});

describe('corrupt and truncated files are clear errors', () => {
  const good = encodeSafetensors([
    ['a', { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
    ['b', { dtype: 'I64', shape: [1], data: new Int32Array([9]) }],
  ]);
  const data = (n: number) => new Uint8Array(n);
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /too short for the 8-byte header length/],
    ['header length past the end', good.subarray(0, 20), /header length \d+ does not fit the file/],
    [
      'absurd header length',
      (() => {
        const b = good.slice();
        new DataView(b.buffer).setBigUint64(0, 2n ** 62n, true);
        return b;
      })(),
      /does not fit the file/,
    ],
    ['zero header length', new Uint8Array(8), /header length is 0/],
    ['truncated data', good.subarray(0, good.length - 3), /run past the data section.*truncated/],
    [
      'trailing bytes',
      (() => {
        const b = new Uint8Array(good.length + 4);
        b.set(good);
        return b;
      })(),
      /extra or missing bytes/,
    ],
    ['bad JSON', rawFile(null, data(0), '{"a": {"dtype": "F32",'), /not valid UTF-8 JSON/],
    ['JSON array', rawFile([1, 2], data(0)), /must be an object/],
    [
      'unknown dtype',
      rawFile({ a: { dtype: 'Q7', shape: [1], data_offsets: [0, 4] } }, data(4)),
      /'a': unknown dtype "Q7"/,
    ],
    [
      'unsupported dtype',
      rawFile({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, data(4)),
      /'a': dtype F16 is not supported/,
    ],
    [
      'bad shape',
      rawFile({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, data(4)),
      /'a': shape must be/,
    ],
    [
      'reversed offsets',
      rawFile({ a: { dtype: 'F32', shape: [], data_offsets: [4, 0] } }, data(4)),
      /'a': data_offsets must be/,
    ],
    [
      'wrong byte count',
      rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data(8)),
      /needs 12 bytes but data_offsets \[0, 8\] span 8/,
    ],
    [
      'offsets out of range',
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data(8)),
      /run past the data section/,
    ],
    [
      'overlapping tensors',
      rawFile(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        },
        data(8),
      ),
      /overlap another tensor/,
    ],
    [
      'a hole in the data',
      rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data(8)),
      /bytes \[0, 4\) of the data section belong to no tensor/,
    ],
    [
      'I64 outside int32',
      (() => {
        const b = good.slice();
        const v = new DataView(b.buffer);
        v.setBigInt64(b.length - 8, 2n ** 40n, true);
        return b;
      })(),
      /'b': I64 value 1099511627776 at index 0 does not fit in int32/,
    ],
    [
      'bad metadata',
      rawFile({ __metadata__: { x: 1 } }, data(0)),
      /'__metadata__' must be an object of strings/,
    ],
  ];
  for (const [label, bytes, pattern] of cases) {
    it(label, () => {
      expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(bytes)).toThrow(pattern);
    });
  }

  it('lists several problems at once', () => {
    const bytes = rawFile(
      {
        a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] },
        b: { dtype: 'X', shape: [1], data_offsets: [8, 12] },
      },
      data(12),
    );
    expect(() => decodeSafetensors(bytes)).toThrow(
      /'a': F32 \[3\] needs 12 bytes[\s\S]*'b': unknown dtype "X"/,
    );
  });

  it('never crashes on random corruption: every mutated file decodes or throws SafetensorsError', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: good.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(good.length),
        (at, byte, cut) => {
          const b = good.slice(0, Math.max(cut, at + 1));
          b[at] = byte;
          try {
            const d = decodeSafetensors(b);
            // When it decodes, the sizes must agree with the header: nothing silently short.
            for (const t of d.tensors.values())
              expect(t.data.length).toBe(t.shape.reduce((x, y) => x * y, 1));
          } catch (e) {
            expect(e).toBeInstanceOf(SafetensorsError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
