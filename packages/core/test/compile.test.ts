import {
  type Backend,
  compile,
  countBackendCalls,
  E,
  getBackend,
  hostEffect,
  linear,
  manualSeed,
  memory,
  type PointwiseArgs,
  pointwiseInto,
  pointwise as pointwiseOp,
  pointwiseProgram,
  rand,
  randn,
  reduceProgram,
  setBackend,
  type Tensor,
  tensor,
  tidy,
} from '@nabla/core';
import '@nabla/backend-cpu';
import { countAllocs } from '@nabla/test-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { sgdStep } from './programs.js';

let backend: Backend;
beforeAll(async () => {
  backend = await setBackend('cpu');
});

/** A tiny regression model with a manual SGD step whose learning rate is read per call. */
function makeModel(seed: number) {
  manualSeed(seed);
  const w = randn([8, 4], { requiresGrad: true });
  const b = randn([4], { requiresGrad: true });
  const state = { lr: 0.05 };
  const step = (x: Tensor, y: Tensor): Tensor =>
    tidy(() => {
      w.zeroGrad();
      b.zeroGrad();
      const out = linear(x, w.t(), b, { relu: true });
      const loss = out.sub(y).square().mean();
      loss.backward();
      pointwiseInto(sgdStep, [w, w.grad!], [() => state.lr], [w]);
      pointwiseInto(sgdStep, [b, b.grad!], [() => state.lr], [b]);
      return loss;
    });
  return { w, b, state, step };
}

/** A compiled step of `makeModel(seed)` and a batch it has captured on and replayed once. */
function warmCompiledStep(seed: number) {
  const step = compile(makeModel(seed).step);
  const x = randn([16, 8]);
  const y = randn([16, 4]);
  step(x, y).dispose(); // the capture
  step(x, y).dispose(); // the first replay
  return { step, x, y };
}

describe('compile', () => {
  it('replays a training step bit-identically to eager, re-reading the learning rate', async () => {
    const eager = makeModel(1);
    const compiled = makeModel(1);
    const step = compile(compiled.step);
    manualSeed(7);
    const batches = Array.from({ length: 12 }, () => [randn([16, 8]), randn([16, 4])] as const);
    for (let i = 0; i < batches.length; i++) {
      const [x, y] = batches[i];
      if (i === 6) {
        eager.state.lr = 0.01;
        compiled.state.lr = 0.01;
      }
      const le = eager.step(x, y);
      const lc = step(x, y);
      expect(await lc.item()).toBe(await le.item());
      le.dispose();
      lc.dispose();
    }
    expect(Array.from(await compiled.w.data())).toEqual(Array.from(await eager.w.data()));
    expect(Array.from(await compiled.w.grad!.data())).toEqual(Array.from(await eager.w.grad!.data()));
    expect(step.stats.captures).toBe(1);
    expect(step.stats.replays).toBe(11);
    step.dispose();
  });

  it('allocates nothing on a replay whose last result was disposed, and keeps memory flat', () => {
    const { step, x, y } = warmCompiledStep(2);
    const before = memory();
    const allocs = countAllocs(backend, () => {
      for (let i = 0; i < 20; i++) step(x, y).dispose();
    });
    expect(allocs).toBe(0); // the loss buffer the caller gave back is written again
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().bytes).toBe(before.bytes);
    expect(memory().buffers).toBe(before.buffers);
    expect(step.stats.temporaryBuffers).toBeGreaterThan(0);
    step.dispose();
  });

  it('never overwrites a result the caller still holds', async () => {
    const double = compile((x: Tensor) => x.mul(2));
    const a = tensor([1, 2]);
    const b = tensor([3, 4]);
    double(a).dispose();
    const first = double(a); // a replay: writes into the buffer returned (and disposed) before
    const second = double(b); // the first result is still held: a new buffer
    expect(Array.from(await first.data())).toEqual([2, 4]);
    expect(Array.from(await second.data())).toEqual([6, 8]);
    const view = second.reshape([2, 1]);
    second.dispose();
    const third = double(a); // a view still holds the second result's buffer
    expect(Array.from(await view.data())).toEqual([6, 8]);
    expect(Array.from(await third.data())).toEqual([2, 4]);
    for (const t of [first, view, third, a, b]) t.dispose();
    const before = memory().buffers;
    double.dispose();
    expect(memory().buffers).toBe(before - 1); // the buffer it kept for the next result
  });

  it("runs the calls a backend prepared with each call's buffers and scalars, and releases them", async () => {
    const prepared = { made: 0, runs: 0, released: 0 };
    backend.prepare = (kernel, args) => {
      if (kernel !== 'pointwise') return null;
      prepared.made++;
      return {
        run: () => {
          prepared.runs++;
          backend.kernels.pointwise(args as PointwiseArgs);
        },
        release: () => {
          prepared.released++;
        },
      };
    };
    try {
      const eager = makeModel(5);
      const compiled = makeModel(5);
      const step = compile(compiled.step);
      manualSeed(8);
      for (let i = 0; i < 6; i++) {
        // new inputs every call, and a new learning rate half-way: both reach the prepared calls
        const [x, y] = [randn([16, 8]), randn([16, 4])];
        if (i === 3) [eager.state.lr, compiled.state.lr] = [0.02, 0.02];
        const le = eager.step(x, y);
        const lc = step(x, y);
        expect(await lc.item()).toBe(await le.item());
        for (const t of [le, lc, x, y]) t.dispose();
      }
      expect(Array.from(await compiled.w.data())).toEqual(Array.from(await eager.w.data()));
      expect(prepared.made).toBeGreaterThan(0);
      expect(prepared.runs).toBe(prepared.made * 5);
      expect(prepared.released).toBe(0);
      step.dispose();
      expect(prepared.released).toBe(prepared.made);
      // `prepare: false` (to compare) calls the kernels on every replay
      const made = prepared.made;
      const unprepared = compile(compiled.step, { prepare: false });
      const [x, y] = [randn([16, 8]), randn([16, 4])];
      for (let i = 0; i < 3; i++) unprepared(x, y).dispose();
      expect(unprepared.stats.replays).toBe(2);
      expect(prepared.made).toBe(made);
      for (const t of [x, y]) t.dispose();
      unprepared.dispose();
    } finally {
      delete backend.prepare;
    }
  });

  it('replays reductions of programs with their nested views rebound to new inputs', async () => {
    const masked = pointwiseProgram('test-masked', {
      inputs: ['float32', 'int32'],
      scalars: ['int32'],
      outputs: [E.select(E.ne(E.input(1, 'int32'), E.scalar(0, 'int32')), E.input(0), E.const(0))],
    });
    const divide = pointwiseProgram('test-over', {
      inputs: ['float32', 'float32'],
      outputs: [E.div(E.input(0), E.input(1))],
    });
    const step = (x: Tensor, t: Tensor, c: Tensor) =>
      reduceProgram('sum', masked, [x, t.reshape([3, 1])], [-1], {
        axis: 1,
        epilogue: { program: divide, inputs: [c] },
      });
    const compiled = compile(step);
    const args = () => [randn([3, 4]), tensor([0, -1, 2], { dtype: 'int32' }), rand([3]).add(1)] as const;
    const first = args();
    compiled(...first).dispose();
    for (let i = 0; i < 2; i++) {
      const next = args();
      const replayed = compiled(...next);
      const eager = step(...next);
      expect(Array.from(await replayed.data())).toEqual(Array.from(await eager.data()));
      expect((await replayed.data())[1]).toBe(0);
      for (const t of [replayed, eager, ...next]) t.dispose();
    }
    expect(compiled.stats.replays).toBe(2);
    for (const t of first) t.dispose();
    compiled.dispose();
  });

  it('reports its replayed kernels to a backend call counter', () => {
    const { step, x, y } = warmCompiledStep(4);
    const counter = countBackendCalls(getBackend());
    try {
      step(x, y).dispose();
      const counts = counter.snapshot();
      expect(counts.kernels).toBe(step.stats.kernelCalls);
      expect(counts.allocs).toBe(0);
      expect(counts.frees).toBe(0);
    } finally {
      counter.stop();
    }
    step.dispose();
  });

  it('captures again for a new input shape', () => {
    const m = makeModel(3);
    const step = compile(m.step);
    step(randn([16, 8]), randn([16, 4])).dispose();
    step(randn([4, 8]), randn([4, 4])).dispose();
    step(randn([16, 8]), randn([16, 4])).dispose();
    expect(step.stats.captures).toBe(2);
    expect(step.stats.replays).toBe(1);
    step.dispose();
  });

  it('draws random data again on every replay, as eager code does', async () => {
    const f = (x: Tensor) => x.mul(rand(x.shape));
    const g = compile(f);
    const x = tensor([1, 2, 3, 4]);
    manualSeed(5);
    const eager = [await f(x).data(), await f(x).data(), await f(x).data()];
    manualSeed(5);
    const replayed = [await g(x).data(), await g(x).data(), await g(x).data()];
    expect(replayed.map((a) => Array.from(a))).toEqual(eager.map((a) => Array.from(a)));
    expect(g.stats.replays).toBe(2);
  });

  it('refuses host reads and promises inside the function', () => {
    const read = compile((x: Tensor) => {
      x.dataSync();
      return x;
    });
    expect(() => read(tensor([1]))).toThrow(
      /'dataSync' reads a tensor on the host inside a compiled function/,
    );
    const asyncRead = compile((x: Tensor) => {
      x.item().catch(() => {});
      return x.add(1);
    });
    expect(() => asyncRead(tensor([1]))).toThrow(/'item' reads a tensor on the host/);
    const promise = compile(async (x: Tensor) => x);
    expect(() => promise(tensor([1]))).toThrow(/must be synchronous/);
  });

  it('refuses gradients that accumulate across calls (no zeroGrad inside)', () => {
    const w = randn([3], { requiresGrad: true });
    const f = compile((x: Tensor) => {
      const loss = x.mul(w).sum();
      loss.backward();
      return loss;
    });
    f(tensor([1, 2, 3])).dispose();
    expect(() => f(tensor([1, 2, 3]))).toThrow(/Call opt.zeroGrad\(\) inside the compiled function/);
  });

  it('captures again when state it updates was replaced', async () => {
    let w = tensor([1, 2, 3]);
    const f = compile((x: Tensor) => {
      pointwiseInto(sgdStep, [w, x], [1], [w]);
      return w.sum();
    });
    expect(await f(tensor([1, 1, 1])).item()).toBe(3);
    w.dispose();
    w = tensor([10, 10, 10]);
    expect(await f(tensor([1, 1, 1])).item()).toBe(27);
    expect(f.stats.captures).toBe(2);
  });
});

describe('compile: per-call checks', () => {
  it('checks class indices of every call before any kernel runs', async () => {
    const { softmaxCrossEntropy } = await import('@nabla/core');
    const w = randn([4, 3], { requiresGrad: true });
    const f = compile((x: Tensor, t: Tensor) =>
      tidy(() => {
        w.zeroGrad();
        const loss = softmaxCrossEntropy(x.matmul(w), t).mean();
        loss.backward();
        return loss;
      }),
    );
    const x = randn([2, 4]);
    f(x, tensor(new Int32Array([0, 2]))).dispose();
    f(x, tensor(new Int32Array([1, 2]))).dispose();
    const before = Array.from(await w.grad!.data());
    expect(() => f(x, tensor(new Int32Array([0, 3])))).toThrow(/index 3 at position 1 is out of bounds/);
    expect(Array.from(await w.grad!.data())).toEqual(before);
  });

  it('checks indices made inside the function where they are made, on every replay', async () => {
    const { softmaxCrossEntropy } = await import('@nabla/core');
    // targets computed in the step: argmax of a shifted copy, in range only while shift < 3
    const inside = compile((x: Tensor, shift: Tensor) =>
      softmaxCrossEntropy(x, x.argmax(1).add(shift.int())),
    );
    const x = randn([2, 3]);
    const zero = tensor([0]);
    const eager = tidy(() => softmaxCrossEntropy(x, x.argmax(1)));
    inside(x, zero).dispose();
    const replayed = inside(x, zero);
    expect(inside.stats.replays).toBe(1);
    expect(Array.from(await replayed.data())).toEqual(Array.from(await eager.data()));
    expect(() => inside(x, tensor([5]))).toThrow(/index [5-7] at position 0 is out of bounds/);
    expect(inside.stats.replays).toBe(2);
    for (const t of [x, zero, eager, replayed]) t.dispose();
    inside.dispose();
  });
});

describe('compile: fusion', () => {
  const scale = pointwiseProgram('test-scale', {
    inputs: ['float32'],
    scalars: ['float32'],
    outputs: [E.mul(E.input(0), E.scalar(0))],
  });
  const addp = pointwiseProgram('test-add', {
    inputs: ['float32', 'float32'],
    outputs: [E.add(E.input(0), E.input(1))],
  });
  const relu = pointwiseProgram('test-relu', {
    inputs: ['float32'],
    outputs: [E.select(E.lt(E.input(0), 0), 0, E.input(0))],
  });
  const { pointwise } = {
    pointwise: (p: typeof scale, xs: Tensor[], s: (number | (() => number))[] = []) => pointwiseOp(p, xs, s),
  };

  it('folds a chain of pointwise kernels into one and gives the same bits', async () => {
    const state = { k: 0.5 };
    const f = (x: Tensor, b: Tensor) =>
      tidy(() => {
        const [s] = pointwise(scale, [x], [() => state.k]);
        const [t] = pointwise(addp, [s, b]);
        const [r] = pointwise(relu, [t]);
        return r.sum();
      });
    const fused = compile(f);
    const unfused = compile(f, { fuse: false });
    const x = randn([8, 16]);
    const b = randn([16]);
    for (let i = 0; i < 4; i++) {
      if (i === 2) state.k = -1.5;
      const expected = await f(x, b).item();
      expect(await fused(x, b).item()).toBe(expected);
      expect(await unfused(x, b).item()).toBe(expected);
    }
    expect(unfused.stats.kernelCalls - fused.stats.kernelCalls).toBe(2);
    expect(fused.stats.temporaryBuffers).toBeLessThan(unfused.stats.temporaryBuffers);
  });

  it('keeps E.index positions through fusion and sibling merging: same bits as eager', async () => {
    // producer and consumer both read positions, over [3, 5, 4], with a broadcast input
    const ramp = pointwiseProgram('test-ramp', {
      inputs: ['float32'],
      outputs: [E.add(E.input(0), E.cast(E.mul(E.index(1), 10), 'float32'))],
    });
    const mask = pointwiseProgram('test-mask', {
      inputs: ['float32', 'float32'],
      outputs: [
        E.select(E.lt(E.index(2), E.index(1)), E.mul(E.input(0), E.input(1)), E.cast(E.index(0), 'float32')),
      ],
    });
    const bump = pointwiseProgram('test-bump', {
      inputs: ['float32'],
      outputs: [E.add(E.input(0), E.cast(E.index(0), 'float32'))],
    });
    const f = (x: Tensor, b: Tensor, p: Tensor, q: Tensor) =>
      tidy(() => {
        const [r] = pointwise(ramp, [x]);
        const [m] = pointwise(mask, [r, b]);
        pointwiseInto(bump, [p], [], [p]); // two independent calls over [6, 2]: merged
        pointwiseInto(bump, [q], [], [q]);
        return m;
      });
    const run = async (g: typeof f) => {
      const [p, q] = [0, 1].map(() =>
        tensor(
          Array.from({ length: 12 }, (_, i) => i),
          { shape: [6, 2] },
        ),
      );
      const x = tensor(
        Array.from({ length: 60 }, (_, i) => i * 0.25 - 3),
        { shape: [3, 5, 4] },
      );
      const b = tensor([1.5, -2, 0.5, 3], { shape: [4] });
      const outs: number[][] = [];
      for (let i = 0; i < 3; i++) {
        const m = g(x, b, p, q);
        outs.push(Array.from(m.dataSync()));
        m.dispose();
      }
      outs.push(Array.from(p.dataSync()), Array.from(q.dataSync()));
      for (const t of [p, q, x, b]) t.dispose();
      return outs;
    };
    const expected = await run(f);
    const fused = compile(f);
    expect(await run(fused)).toEqual(expected);
    const unfused = compile(f, { fuse: false });
    expect(await run(unfused)).toEqual(expected);
    expect(unfused.stats.kernelCalls).toBe(4);
    expect(fused.stats.kernelCalls).toBe(2); // ramp into mask, and the two bumps side by side
    for (const g of [fused, unfused]) g.dispose();
  });

  it('merges independent calls of one program over one shape into one kernel (sibling fusion)', async () => {
    // an in-place scaling of three tensors, as an optimizer updates each parameter: the [4, 4]
    // ones merge across the [3] one between them; a host effect between two calls changes what
    // the second one's scalar reads, and each must still read it where it was
    const state = { k: 0.5 };
    const f = (a: Tensor, b: Tensor, c: Tensor) =>
      tidy(() => {
        pointwiseInto(scale, [a], [() => state.k], [a]);
        pointwiseInto(scale, [c], [() => state.k], [c]);
        hostEffect(() => {
          state.k += 1;
        });
        pointwiseInto(scale, [b], [() => state.k], [b]);
      });
    const run = async (g: typeof f) => {
      state.k = 0.5;
      const [a, b] = [0, 1].map(() =>
        tensor(
          Array.from({ length: 16 }, (_, i) => i - 7),
          { shape: [4, 4] },
        ),
      );
      const c = tensor([1, 2, 3]);
      for (let i = 0; i < 3; i++) g(a, b, c);
      const out = [a, b, c].map((t) => Array.from(t.dataSync()));
      for (const t of [a, b, c]) t.dispose();
      return out;
    };
    const expected = await run(f);
    const merged = compile(f);
    expect(await run(merged)).toEqual(expected);
    expect(merged.stats.kernelCalls).toBe(2); // [4, 4] twice merged, [3] alone
    const separate = compile(f, { fuse: false });
    expect(await run(separate)).toEqual(expected);
    expect(separate.stats.kernelCalls).toBe(3);
    for (const g of [merged, separate]) g.dispose();
  });

  it('does not merge calls that depend on each other or would exceed the buffer limit', async () => {
    const backend = getBackend() as { capabilities: Backend['capabilities'] };
    const caps = backend.capabilities;
    // b reads what the first call wrote: not independent
    const dependent = (a: Tensor, b: Tensor) =>
      tidy(() => {
        pointwiseInto(scale, [a], [2], [a]);
        pointwiseInto(addp, [b, a], [], [b]);
        pointwiseInto(addp, [a, b], [], [a]);
      });
    const a = randn([4, 4]);
    const b = randn([4, 4]);
    const g = compile(dependent);
    g(a, b);
    expect(g.stats.kernelCalls).toBe(3);
    g.dispose();
    // two independent in-place scalings bind 2 buffers together: merged under 2, not under 1
    const two = (x: Tensor, y: Tensor) =>
      tidy(() => {
        pointwiseInto(scale, [x], [2], [x]);
        pointwiseInto(scale, [y], [2], [y]);
      });
    const counts: number[] = [];
    for (const limit of [2, 1]) {
      backend.capabilities = { ...caps, maxPointwiseBuffers: limit };
      try {
        const h = compile(two);
        h(a, b);
        counts.push(h.stats.kernelCalls);
        h.dispose();
      } finally {
        backend.capabilities = caps;
      }
    }
    expect(counts).toEqual([1, 2]);
    a.dispose();
    b.dispose();
  });

  it("keeps a fused kernel within the device's buffer limit", async () => {
    const backend = getBackend() as { capabilities: Backend['capabilities'] };
    const caps = backend.capabilities;
    const f = (a: Tensor, b: Tensor, c: Tensor, d: Tensor) =>
      tidy(() => pointwise(addp, [pointwise(addp, [pointwise(addp, [a, b])[0], c])[0], d])[0]);
    const [a, b, c, d] = [0, 1, 2, 3].map(() => randn([4, 4]));
    const expected = Array.from(await f(a, b, c, d).data());
    const counts: number[] = [];
    for (const limit of [undefined, 4, 3]) {
      backend.capabilities = { ...caps, maxPointwiseBuffers: limit };
      try {
        const g = compile(f);
        g(a, b, c, d).dispose();
        expect(Array.from(await g(a, b, c, d).data())).toEqual(expected);
        counts.push(g.stats.kernelCalls);
        g.dispose();
      } finally {
        backend.capabilities = caps;
      }
    }
    // no limit: one kernel binding 5 buffers; 4: two (a+b+c, then +d); 3: nothing fuses
    expect(counts).toEqual([1, 2, 3]);
  });
});
