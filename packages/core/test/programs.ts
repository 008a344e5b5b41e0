/** Pointwise programs shared by the core tests. */
import { E, pointwiseProgram } from '@nabla/core';

/** `p -= lr · g`, an optimizer's rule: inputs `(p, g)`, scalar `lr`; tests write it into `p`. */
export const sgdStep = pointwiseProgram('test-sgd', {
  inputs: ['float32', 'float32'],
  scalars: ['float32'],
  outputs: [E.sub(E.input(0), E.mul(E.scalar(0), E.input(1)))],
});
