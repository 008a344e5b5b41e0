/**
 * `summary(model, input)`: the one-screen table users paste from Keras and torchinfo: every
 * layer with its output shape and parameter count, then the totals. It runs one forward pass
 * (without gradients) to learn the shapes, and frees everything it made.
 */
import { noGrad, type Tensor, tidy } from '@nabla/core';
import type { Module } from './module.js';

/** One row of {@link summary}. */
export interface SummaryRow {
  /** Dotted name in the model (`'0'`, `'encoder.1'`). */
  name: string;
  /** Class name (`'Linear'`). */
  type: string;
  /** Shape of the layer's output in the traced forward pass (null when it did not run). */
  outputShape: number[] | null;
  /** Parameters owned by this layer itself (not its children). */
  params: number;
}

/** What {@link summary} returns: rows, totals and the printable table. */
export interface Summary {
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  /** The table as text; also what `String(summary(...))` gives. */
  text: string;
  /** The table as text ({@link Summary.text}). */
  toString(): string;
}

const group = (n: number) => n.toLocaleString('en-US');

/**
 * Traces `model.forward(...inputs)` once and lists the layers that have no children (the
 * ones doing work) in call order, with their output shapes and own parameter counts.
 */
export function summary(model: Module, ...inputs: Tensor[]): Summary {
  const leaves = model.namedModules().filter(([, m]) => m.children().length === 0);
  const shapes = new Map<Module, number[]>();
  const order: Module[] = [];
  const originals = leaves.map(([, m]) => [m, m.forward, Object.hasOwn(m, 'forward')] as const);
  for (const [m, forward] of originals) {
    const own = m as unknown as { forward: (...a: Tensor[]) => Tensor };
    own.forward = (...args: Tensor[]) => {
      const out = forward.apply(m, args);
      if (!shapes.has(m)) order.push(m);
      shapes.set(m, [...out.shape]);
      return out;
    };
  }
  try {
    noGrad(() => tidy(() => void model.forward(...inputs)));
  } finally {
    for (const [m, forward, own] of originals) {
      if (own) (m as unknown as { forward: unknown }).forward = forward;
      else delete (m as unknown as { forward?: unknown }).forward;
    }
  }
  const ownParams = (m: Module) => {
    const childParams = new Set(m.children().flatMap((c) => c.parameters()));
    return m
      .parameters()
      .filter((p) => !childParams.has(p))
      .reduce((n, p) => n + p.size, 0);
  };
  const names = new Map(leaves.map(([name, m]) => [m, name]));
  const ran = order.concat(leaves.map(([, m]) => m).filter((m) => !shapes.has(m)));
  const rows: SummaryRow[] = ran.map((m) => ({
    name: names.get(m) ?? '',
    type: m.constructor.name,
    outputShape: shapes.get(m) ?? null,
    params: ownParams(m),
  }));
  const totalParams = model.numParameters();
  const trainableParams = model.numParameters({ onlyTrainable: true });
  const cells = rows.map((r) => [
    `${r.name ? `${r.name} ` : ''}(${r.type})`,
    r.outputShape ? `[${r.outputShape.join(', ')}]` : '--',
    group(r.params),
  ]);
  const header = ['Layer (type)', 'Output Shape', 'Param #'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    `${c[0].padEnd(widths[0])}  ${c[1].padEnd(widths[1])}  ${c[2].padStart(widths[2])}`;
  const rule = (ch: string) => ch.repeat(widths[0] + widths[1] + widths[2] + 4);
  const text = [
    `${model.constructor.name} summary`,
    rule('='),
    line(header),
    rule('='),
    ...cells.map(line),
    rule('='),
    `Total params: ${group(totalParams)}`,
    `Trainable params: ${group(trainableParams)}`,
    `Non-trainable params: ${group(totalParams - trainableParams)}`,
    rule('='),
  ].join('\n');
  return { rows, totalParams, trainableParams, text, toString: () => text };
}
