/** The one operand check the update rules add to `pointwiseInto`'s own. */
import { sameShape, type Tensor } from '@nabla/core';

/**
 * Throws unless `grad` has exactly the parameter's shape: `pointwiseInto` would broadcast a
 * smaller gradient silently.
 */
export function checkGradShape(rule: string, param: Tensor, grad: Tensor): void {
  if (!sameShape(grad.shape, param.shape)) {
    throw new Error(
      `${rule}: grad has shape [${grad.shape.join(', ')}] but the parameter has shape [${param.shape.join(', ')}]`,
    );
  }
}
