/**
 * Reverse-mode autograd. Every differentiable op that sees an input requiring grad records
 * a {@link GradNode}: the edges to its inputs, the tensors it saved, and a closure that
 * maps the output's gradient to one gradient per input. `backward` walks the nodes in
 * reverse topological order (micrograd's idea, with explicit memory ownership).
 */
import { formatShape } from './shape.js';
import type { Tensor } from './tensor.js';

let gradEnabled = true;

/** True unless inside {@link noGrad}. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording any graph (like `torch.no_grad()`); synchronous. */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Where an input's gradient goes: a leaf tensor's `.grad`, another node, or nowhere. */
export type Edge = { leaf: Tensor } | { node: GradNode } | null;

/**
 * Maps the output gradient to one gradient per input (null where none is needed). It reads
 * tensors only through `saved` (aliases the node owns): the originals may be disposed by then.
 */
export type BackwardFn = (
  grad: Tensor,
  saved: readonly Tensor[],
  needs: readonly boolean[],
) => (Tensor | null)[];

/** One recorded op in the autograd graph: its inputs' edges, saved tensors and backward rule. */
export class GradNode {
  /** Tensors and other owners (downstream nodes) holding this node. */
  private refs = 0;
  /** True once the saved tensors were released (after backward, or when nothing refers to it). */
  freed = false;
  /** True once the saved tensors of this node and the nodes upstream have the safety net. */
  private netted = false;
  /** The storage version of each saved tensor when it was saved (see `Storage.version`). */
  private readonly savedVersions: readonly number[];

  constructor(
    readonly op: string,
    readonly edges: readonly Edge[],
    readonly saved: readonly Tensor[],
    readonly backwardFn: BackwardFn,
  ) {
    for (let k = 0; k < edges.length; k++) {
      const e = edges[k];
      if (e && 'node' in e) e.node.retain();
    }
    const versions = new Array<number>(saved.length);
    for (let k = 0; k < saved.length; k++) versions[k] = saved[k].version;
    this.savedVersions = versions;
  }

  /**
   * Throws PyTorch's error when a saved tensor was written in place after it was saved: the
   * backward rule would silently read the new values.
   */
  checkSavedVersions(): void {
    for (let i = 0; i < this.saved.length; i++) {
      const t = this.saved[i];
      const now = t.version;
      if (now === this.savedVersions[i]) continue;
      throw new Error(
        'backward: one of the variables needed for gradient computation has been modified by an inplace ' +
          `operation: [${t.dtype} ${formatShape(t.shape)}], which is saved by '${this.op}', is at version ${now}; ` +
          `expected version ${this.savedVersions[i]} instead. Hint: an in-place write (assign, an optimizer's ` +
          'step(), a running-statistics update) changed it between the forward pass and backward(); call ' +
          'backward() before the write, or save a clone().',
      );
    }
  }

  /** Adds one owner (a tensor or a downstream node) that keeps this node alive. */
  retain(): void {
    this.refs++;
  }

  /** Drops one owner; with none left, frees saved tensors and lets go of upstream nodes. */
  release(): void {
    if (--this.refs > 0) return;
    this.freeSaved();
    for (let k = 0; k < this.edges.length; k++) {
      const e = this.edges[k];
      if (e && 'node' in e) e.node.release();
    }
  }

  /**
   * Gives the saved tensors of this node and of every live node upstream the garbage-collection
   * safety net. Called when a tensor holding this node leaves every scope (or is made outside
   * one): from then on the graph may become unreachable without a `dispose()`. Saved tensors of
   * nodes only scoped tensors hold need no net: their scope disposes those tensors, which
   * releases the node and its saved tensors. A freed node's saved tensors are gone already, and
   * the nodes upstream of it are released by it or held by other tensors, netted on their own.
   */
  netSaved(): void {
    const pending: GradNode[] = [this];
    for (let node = pending.pop(); node; node = pending.pop()) {
      if (node.netted || node.freed) continue;
      node.netted = true;
      for (const t of node.saved) t._net();
      for (const e of node.edges) if (e && 'node' in e) pending.push(e.node);
    }
  }

  /** Disposes the tensors saved for backward; the node cannot run backward afterwards. */
  freeSaved(): void {
    if (this.freed) return;
    this.freed = true;
    for (let k = 0; k < this.saved.length; k++) this.saved[k].dispose();
  }
}
