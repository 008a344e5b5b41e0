/** The backward pass: reverse topological walk over {@link GradNode}s. */
import { type Edge, type GradNode, noGrad } from './autograd.js';
import { activeCapture, guardValue } from './compile/hooks.js';
import { add, ones } from './ops/index.js';
import { keep, tidy } from './scope.js';
import { formatShape } from './shape.js';
import { Tensor } from './tensor.js';

/** @internal the engine behind `Tensor.backward`. */
export function runBackward(root: Tensor, grad: Tensor | undefined, retainGraph: boolean): void {
  root.storageFor('backward');
  if (!root.requiresGrad) {
    throw new Error('backward: element 0 of tensors does not require grad and does not have a grad_fn');
  }
  if (grad === undefined && root.size !== 1) {
    throw new Error(
      `backward: grad can be implicitly created only for scalar outputs (got shape ${formatShape(root.shape)}); ` +
        'pass a gradient of the same shape: y.backward(grad)',
    );
  }
  if (
    grad !== undefined &&
    (grad.shape.length !== root.shape.length || grad.shape.some((d, i) => d !== root.shape[i]))
  ) {
    throw new Error(
      `backward: gradient has shape ${formatShape(grad.shape)} but the tensor has shape ${formatShape(root.shape)}`,
    );
  }
  const order = topologicalOrder(root.gradFn);
  for (let n = 0; n < order.length; n++) {
    const node = order[n];
    if (node.freed) {
      throw new Error(
        `backward: trying to backward through the graph a second time (the tensors saved by '${node.op}' were freed ` +
          'after the first backward). Pass { retainGraph: true } to the first backward if you need to call it twice.',
      );
    }
    node.checkSavedVersions();
  }

  const leafGrads = new Map<Tensor, Tensor>();
  tidy(() =>
    noGrad(() => {
      const seed = grad ?? ones(root.shape, { dtype: root.dtype, backend: root.backend });
      const pending = new Map<GradNode, Tensor>();
      const accumulate = (edge: Edge, g: Tensor): void => {
        if (edge === null) return;
        if ('leaf' in edge) {
          if (edge.leaf.isDisposed) return;
          const prev = leafGrads.get(edge.leaf);
          leafGrads.set(edge.leaf, prev ? add(prev, g) : g);
        } else {
          const prev = pending.get(edge.node);
          pending.set(edge.node, prev ? add(prev, g) : g);
        }
      };
      accumulate(root.gradFn ? { node: root.gradFn } : { leaf: root }, seed);
      for (let n = 0; n < order.length; n++) {
        const node = order[n];
        const g = pending.get(node);
        if (!g) continue;
        pending.delete(node);
        const edges = node.edges;
        const needs = new Array<boolean>(edges.length);
        for (let i = 0; i < edges.length; i++) needs[i] = edges[i] !== null;
        const inputGrads = node.backwardFn(g, node.saved, needs);
        for (let i = 0; i < edges.length; i++) {
          const edge = edges[i];
          const ig = inputGrads[i];
          if (edge && ig) accumulate(edge, ig);
        }
      }
      // Hand each leaf a gradient it owns alone: clone where one tensor serves twice or is the user's.
      const claimed = new Set<Tensor>();
      for (const [leaf, g] of leafGrads) {
        let owned = g === grad || claimed.has(g) ? g.clone() : g;
        claimed.add(owned);
        if (leaf.grad) {
          const sink = activeCapture();
          if (sink && !sink.madeHere(leaf.grad.storageFor('backward').buffer)) {
            throw new Error(
              'compile: backward() accumulates into a gradient that existed before the call; a replay would ' +
                'read a stale one. Call opt.zeroGrad() inside the compiled function (or run it eagerly).',
            );
          }
          const sum = add(leaf.grad, owned);
          leaf.grad.dispose();
          owned = sum;
        }
        handGradient(leaf, keep(owned.detach()));
      }
    }),
  );
  if (!retainGraph) for (let n = 0; n < order.length; n++) order[n].freeSaved();
}

/**
 * Sets a leaf's gradient. Inside a capture (see `compile`) the hand-over is replayed: each
 * replay gives the leaf a view of the same gradient buffer, which the replay has just
 * rewritten. A capture that assigned (rather than accumulated) depends on the gradient being
 * null when the call starts, unless the call zeroed it first: a guard says so.
 */
function handGradient(leaf: Tensor, grad: Tensor): void {
  const sink = activeCapture();
  if (sink && !sink.zeroedLeaves.has(leaf)) {
    guardValue('a parameter gradient that is null when the call starts', () => leaf.grad === null);
  }
  leaf.grad = grad;
  if (!sink) return;
  const storage = grad.storageFor('backward');
  sink.rehanded(storage);
  let view = grad;
  sink.effect(() => {
    if (leaf.grad === view && !view.isDisposed) return;
    if (view.isDisposed) view = keep(new Tensor(storage, grad.shape, grad.strides, grad.offset));
    leaf.grad = view;
  });
}

/** Nodes reachable from `start`, each after every node that consumes its output. */
function topologicalOrder(start: GradNode | null): GradNode[] {
  if (!start) return [];
  const order: GradNode[] = [];
  const visited = new Set<GradNode>();
  const stack: { node: GradNode; next: number }[] = [{ node: start, next: 0 }];
  visited.add(start);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const edges = top.node.edges;
    if (top.next < edges.length) {
      const e = edges[top.next++];
      if (e && 'node' in e && !visited.has(e.node)) {
        visited.add(e.node);
        stack.push({ node: e.node, next: 0 });
      }
    } else {
      order.push(top.node);
      stack.pop();
    }
  }
  return order.reverse();
}
