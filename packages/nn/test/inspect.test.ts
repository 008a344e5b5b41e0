/** Inspection: apply, numParameters, requiresGrad_, summary (output shapes and parameter counts). */
import '@nabla/backend-cpu';
import { memory, setBackend, tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GELU, LayerNorm, Linear, type Module, Sequential, Sigmoid, summary } from '../src/index.js';

describe('module inspection (cpu)', () => {
  beforeAll(() => setBackend('cpu'));
  const model = () =>
    new Sequential(new Linear(4, 8), new LayerNorm(8), new GELU(), new Linear(8, 1), new Sigmoid());

  it('apply visits children first, then the module itself', () => {
    const m = model();
    const seen: string[] = [];
    expect(m.apply((x: Module) => seen.push(x.constructor.name))).toBe(m);
    expect(seen).toEqual(['Linear', 'LayerNorm', 'GELU', 'Linear', 'Sigmoid', 'Sequential']);
  });

  it('numParameters counts elements (as sum(p.numel()) in PyTorch); freezing moves them to non-trainable', () => {
    const m = model();
    expect(m.numParameters()).toBe(4 * 8 + 8 + 8 + 8 + 8 * 1 + 1);
    (m.at(0) as Linear).requiresGrad_(false);
    expect(m.numParameters({ onlyTrainable: true })).toBe(8 + 8 + 8 + 1);
    expect(m.namedParameters().map(([n]) => n)).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '3.weight',
      '3.bias',
    ]);
    expect(m.children().length).toBe(5);
  });

  it('summary: layers in call order with output shapes, totals, nothing leaked', () => {
    const m = model();
    (m.at(0) as Linear).requiresGrad_(false);
    const x = tensor(new Float32Array(12), { shape: [3, 4] });
    const before = memory().tensors;
    const s = summary(m, x);
    expect(memory().tensors).toBe(before);
    expect(s.rows.map((r) => [r.name, r.type, r.outputShape, r.params])).toEqual([
      ['0', 'Linear', [3, 8], 40],
      ['1', 'LayerNorm', [3, 8], 16],
      ['2', 'GELU', [3, 8], 0],
      ['3', 'Linear', [3, 1], 9],
      ['4', 'Sigmoid', [3, 1], 0],
    ]);
    expect([s.totalParams, s.trainableParams]).toEqual([65, 25]);
    expect(String(s)).toContain('Non-trainable params: 40');
    expect(String(s)).toContain('0 (Linear)');
    // forward is restored: the model runs normally afterwards.
    expect(Object.hasOwn(m.at(0), 'forward')).toBe(false);
  });
});
