/**
 * `@nabla/test-kit`: helpers shared by the packages' tests (private, never published; only test
 * code imports it). It depends on `@nabla/core` alone, so every package's tests can use it.
 */
export { countAllocs, countKernels } from './allocs.js';
export { matmulArgs, readBack, softmaxCrossEntropyForward, upload, view } from './buffers.js';
export { expectClose } from './close.js';
export { type Fx, fixtureReader, fromFx, intFromFx, stateFromFx } from './fixtures.js';
export { float32Sweep } from './float-sweep.mjs';
export { type Held, held } from './held.js';
export { type Rng, randInt, randomArray, randomF32, randomNumbers, rng } from './random.js';
export { refBinary, refMatmul, refSoftmaxCrossEntropy } from './reference.js';
export { adamUpdate, trainingStep } from './training.js';
