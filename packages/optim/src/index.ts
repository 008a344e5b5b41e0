/**
 * `@nabla/optim`: SGD, Adam and AdamW with PyTorch's update rules, running as in-place
 * updates through `@nabla/core` (the backend's fused kernels where it has them).
 * @packageDocumentation
 */
export { Adam, type AdamOptions, AdamW } from './adam.js';
export {
  type BaseOptions,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
} from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { checkParametersAlive, type StateSchema, validateOptimizerStateDict } from './validate.js';
