import {
  type Backend,
  countBackendCalls,
  pointwiseInto,
  pointwiseIntoEach,
  setBackend,
  type Tensor,
  tensor,
} from '@nabla/core';
import '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { sgdStep } from './programs.js';

let backend: Backend;
beforeAll(async () => {
  backend = await setBackend('cpu');
});

const filled = (shape: number[], f: (i: number) => number) =>
  tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)),
    { shape },
  );

/** Parameters and gradients of three shapes, two of them twice. */
function params(): { p: Tensor; g: Tensor }[] {
  return [[4, 3], [5], [4, 3], [5], [2]].map((shape, k) => ({
    p: filled(shape, (i) => i * 0.5 - k),
    g: filled(shape, (i) => Math.sin(i + k)),
  }));
}

function disposeAll(list: { p: Tensor; g: Tensor }[]): void {
  for (const { p, g } of list) {
    p.dispose();
    g.dispose();
  }
}

function kernelsOf(fn: () => void): number {
  const counter = countBackendCalls(backend);
  try {
    fn();
    return counter.snapshot().kernels;
  } finally {
    counter.stop();
  }
}

describe('pointwiseIntoEach', () => {
  it('runs the calls of one program over one shape as one kernel, with the results of separate calls', () => {
    const [a, b] = [params(), params()];
    const lrs = [0.1, 0.2, 0.3, 0.4, 0.5];
    const separate = kernelsOf(() => {
      for (const [k, { p, g }] of a.entries()) pointwiseInto(sgdStep, [p, g], [lrs[k]], [p]);
    });
    const together = kernelsOf(() => {
      pointwiseIntoEach(
        b.map(({ p, g }, k) => ({ program: sgdStep, inputs: [p, g], scalars: [lrs[k]], outputs: [p] })),
      );
    });
    expect(separate).toBe(5);
    expect(together).toBe(3); // [4, 3] twice, [5] twice, [2]
    for (const [k, { p }] of a.entries())
      expect(Array.from(b[k].p.dataSync())).toEqual(Array.from(p.dataSync()));
    disposeAll([...a, ...b]);
  });

  it('runs calls that depend on each other one by one, in order', () => {
    const x = filled([6], (i) => i);
    const y = filled([6], (i) => 10 - i);
    // the second call reads what the first wrote
    pointwiseIntoEach([
      { program: sgdStep, inputs: [x, y], scalars: [1], outputs: [x] },
      { program: sgdStep, inputs: [y, x], scalars: [1], outputs: [y] },
    ]);
    const x1 = Array.from({ length: 6 }, (_, i) => i - (10 - i));
    expect(Array.from(x.dataSync())).toEqual(x1);
    expect(Array.from(y.dataSync())).toEqual(x1.map((v, i) => 10 - i - v));
    x.dispose();
    y.dispose();
  });

  it("keeps each kernel within the backend's buffer limit", () => {
    const caps = backend.capabilities;
    const b = params();
    (backend as { capabilities: Backend['capabilities'] }).capabilities = { ...caps, maxPointwiseBuffers: 3 };
    try {
      // each call binds 2 buffers: no two fit under 3
      const n = kernelsOf(() =>
        pointwiseIntoEach(
          b.map(({ p, g }) => ({ program: sgdStep, inputs: [p, g], scalars: [0.1], outputs: [p] })),
        ),
      );
      expect(n).toBe(5);
    } finally {
      (backend as { capabilities: Backend['capabilities'] }).capabilities = caps;
    }
    disposeAll(b);
  });

  it('checks every call as pointwiseInto would before any kernel runs', () => {
    const b = params();
    const before = b.map(({ p }) => Array.from(p.dataSync()));
    const calls = b.map(({ p, g }) => ({ program: sgdStep, inputs: [p, g], scalars: [0.1], outputs: [p] }));
    const wrong = filled([3], () => 1);
    calls.push({ program: sgdStep, inputs: [wrong, filled([2], () => 1)], scalars: [0.1], outputs: [wrong] });
    expect(() => pointwiseIntoEach(calls, 'sgd')).toThrow(/^sgd: /);
    expect(b.map(({ p }) => Array.from(p.dataSync()))).toEqual(before);
    disposeAll(b);
  });
});
