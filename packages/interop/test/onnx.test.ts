/**
 * ONNX export checked by running the exported bytes in ONNX Runtime (onnxruntime-web's
 * wasm build, which runs in Node; onnxruntime-node's install script needs api.nuget.org,
 * unreachable here) and comparing with Nabla's own eval outputs.
 */
import '@nabla/backend-cpu';
import { manualSeed, randn, setBackend, type Tensor, tidy } from '@nabla/core';
import { BatchNorm1d, Dropout, Flatten, Linear, Module, ReLU, Sequential } from '@nabla/nn';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, fuseBatchNorm, load } from '../src/index.js';
import { ProtoWriter } from '../src/onnx/protobuf.js';
import { fixtureBytes, makeMlp } from './mlp.js';
import { differenceFromOrt } from './ort.js';

let worst = 0;

beforeAll(async () => {
  await setBackend('cpu');
  ort.env.wasm.numThreads = 1; // 2 shared cores; threads only add start-up time here
});
afterAll(() => {
  console.log(`interop: largest |Nabla - ONNX Runtime| output difference: ${worst}`);
});

/** Runs `bytes` in ONNX Runtime on `x` and returns the largest difference from Nabla's `model.forward(x)` in eval. */
async function compare(model: Module, bytes: Uint8Array, x: Tensor): Promise<number> {
  const diff = await differenceFromOrt(model, bytes, x, (session) => {
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['output']);
  });
  worst = Math.max(worst, diff);
  return diff;
}

describe('protobuf writer', () => {
  it('encodes varints, tags, negative ints, floats and nested messages as the wire format says', () => {
    expect(new ProtoWriter().int(1, 150).finish()).toEqual(Uint8Array.from([0x08, 0x96, 0x01]));
    expect(new ProtoWriter().int(2, 300).finish()).toEqual(Uint8Array.from([0x10, 0xac, 0x02]));
    expect(new ProtoWriter().int(1, -1).finish()).toEqual(
      Uint8Array.from([0x08, ...Array(9).fill(0xff), 0x01]),
    );
    expect(new ProtoWriter().int(20, 2).finish()).toEqual(Uint8Array.from([0xa0, 0x01, 0x02])); // field 20 needs a 2-byte tag
    expect(new ProtoWriter().string(2, 'testing').finish()).toEqual(
      Uint8Array.from([0x12, 0x07, ...new TextEncoder().encode('testing')]),
    );
    expect(new ProtoWriter().float(2, 1).finish()).toEqual(Uint8Array.from([0x15, 0x00, 0x00, 0x80, 0x3f]));
    expect(new ProtoWriter().message(3, new ProtoWriter().int(1, 150)).finish()).toEqual(
      Uint8Array.from([0x1a, 0x03, 0x08, 0x96, 0x01]),
    );
    expect(new ProtoWriter().packedInts(4, [3, 270, 86942]).finish()).toEqual(
      Uint8Array.from([0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05]),
    );
    expect(() => new ProtoWriter().int(1, 0.5)).toThrow(/not an integer/);
  });
});

describe('exportOnnx runs in ONNX Runtime with Nabla’s outputs', () => {
  it('the PyTorch-trained MLP (Gemm, BatchNormalization, Relu, Identity), dynamic batch', async () => {
    const model = makeMlp();
    await load(model, fixtureBytes('torch_mlp.safetensors'));
    model.train(); // export gives inference semantics whatever the mode
    const bytes = await exportOnnx(model, { inputShape: ['batch', 6] });
    manualSeed(1);
    for (const n of [1, 9]) {
      const x = randn([n, 6], { std: 2 });
      expect(await compare(model, bytes, x)).toBeLessThan(1e-5);
      x.dispose();
    }
    model.dispose();
  });

  it('Flatten, nested Sequential, Linear without bias, BatchNorm without affine, any opset 11–21', async () => {
    manualSeed(2);
    const model = new Sequential(
      new Flatten(),
      new Sequential(
        new Linear(12, 5, { bias: false }),
        new BatchNorm1d(5, { affine: false, eps: 1e-3 }),
        new ReLU(),
      ),
      new Dropout(0.5),
      new Linear(5, 2),
    );
    // Give the batch norm non-trivial running statistics.
    model.train();
    for (let i = 0; i < 3; i++) tidy(() => void model.forward(randn([16, 3, 4], { mean: 1, std: 3 })));
    const x = randn([4, 3, 4]);
    for (const opset of [11, 13, 17, 21]) {
      const bytes = await exportOnnx(model, { inputShape: ['N', 3, 4], opset });
      expect(await compare(model, bytes, x)).toBeLessThan(1e-5);
    }
    x.dispose();
    model.dispose();
  });

  it('Linear on 3-D input (MatMul + Add), BatchNorm1d on (N, C, L), Flatten of middle dims', async () => {
    manualSeed(3);
    const model = new Sequential(
      new BatchNorm1d(5, { eps: 0.1 }),
      new Linear(4, 3),
      new ReLU(),
      new Flatten(0, 1),
      new Linear(3, 2),
    );
    model.train();
    tidy(() => void model.forward(randn([6, 5, 4], { mean: -2, std: 2 })));
    const x = randn([2, 5, 4]);
    const bytes = await exportOnnx(model, { inputShape: [2, 5, 4] });
    expect(await compare(model, bytes, x)).toBeLessThan(1e-5);
    x.dispose();
    model.dispose();
  });
  it('a BatchNorm-folded model exports to Gemm + Relu only and keeps the outputs', async () => {
    const model = makeMlp();
    await load(model, fixtureBytes('torch_mlp.safetensors'));
    const fused = fuseBatchNorm(model.eval());
    const bytes = await exportOnnx(fused, { inputShape: ['batch', 6] });
    const text = new TextDecoder('latin1').decode(bytes);
    expect(text).not.toContain('BatchNormalization');
    manualSeed(4);
    const x = randn([8, 6], { std: 2 });
    expect(await compare(model, bytes, x)).toBeLessThan(1e-5); // ONNX of the fused model vs Nabla's unfused model
    x.dispose();
    fused.dispose();
    model.dispose();
  });
});

describe('exportOnnx errors', () => {
  class Tanh extends Module {
    forward(x: Tensor): Tensor {
      return x.tanh();
    }
  }
  class Gelu extends Tanh {}

  it('names every unsupported layer with its path', async () => {
    const model = new Sequential(new Linear(2, 2), new Tanh(), new Sequential(new ReLU(), new Gelu()));
    await expect(exportOnnx(model, { inputShape: [1, 2] })).rejects.toThrow(
      /unsupported layers '1' \(Tanh\), '2\.1' \(Gelu\); supported: Linear, ReLU, BatchNorm1d, Dropout, Flatten/,
    );
    model.dispose();
  });

  it('reports shape mismatches, batch norm without running stats, bad options', async () => {
    const model = new Sequential(new Linear(3, 2));
    await expect(exportOnnx(model, { inputShape: ['N', 4] })).rejects.toThrow(
      /layer '0' \(Linear, in_features=3\) gets input shape \[N, 4\]/,
    );
    await expect(exportOnnx(model, { inputShape: ['N', 3], opset: 7 })).rejects.toThrow(
      /opset must be an integer from 11 to 21/,
    );
    await expect(exportOnnx(model, { inputShape: [-1, 3] })).rejects.toThrow(/inputShape must hold/);
    const bn = new Sequential(new BatchNorm1d(3, { trackRunningStats: false }));
    await expect(exportOnnx(bn, { inputShape: ['N', 3] })).rejects.toThrow(
      /'0' \(BatchNorm1d\) has no running statistics/,
    );
    await expect(exportOnnx(new Sequential(new BatchNorm1d(4)), { inputShape: ['N', 3] })).rejects.toThrow(
      /BatchNorm1d\(4\).*gets input shape \[N, 3\]/,
    );
    model.dispose();
    bn.dispose();
  });
});
