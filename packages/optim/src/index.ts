/**
 * `@nabla/optim`: SGD, Adam and AdamW with PyTorch's update rules, running as in-place
 * updates: each rule is one pointwise program (`src/rules/`) run in place, the parameters of one
 * shape side by side in one kernel.
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
export { CosineAnnealingLR } from './schedulers/cosine.js';
export { LRScheduler, type SchedulableGroup, type SchedulerStateDict } from './schedulers/lr-scheduler.js';
export { OneCycleLR, type OneCycleLROptions } from './schedulers/one-cycle.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './schedulers/plateau.js';
export { ExponentialLR, MultiStepLR, StepLR } from './schedulers/step-lr.js';
export { SGD, type SGDOptions } from './sgd.js';
export { checkParametersAlive, type StateSchema, validateOptimizerStateDict } from './validate.js';
