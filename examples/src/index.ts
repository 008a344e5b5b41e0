/**
 * `@nabla/examples`: training scripts for Nabla behind the `nabla-train` CLI, and the
 * pieces they are built from (datasets, the training loop, checkpoints, plots).
 * @packageDocumentation
 */
export { BackendUnavailableError, selectBackend } from './backends.js';
export { type Checkpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
export { type CliIO, main, type Plan, plan } from './cli.js';
export { batches, type Dataset, epochOrder, permutation, type Split, splitDataset } from './data/dataset.js';
export { loadMnist } from './data/mnist.js';
export { makeRegression, targetFunction } from './data/regression.js';
export { makeSequences } from './data/sequence.js';
export { makeSpirals } from './data/spirals.js';
export { makeTabular, TABULAR_FEATURES } from './data/tabular.js';
export type { ExampleDef, PictureContext, Prepared, TrainRun } from './example.js';
export { EXAMPLES } from './examples/index.js';
export { TemporalNet } from './examples/sequence.js';
export { type EpochRecord, runSummary } from './history.js';
export { mlp } from './models.js';
export {
  BACKENDS,
  CLI_OPTIONS,
  type CliArgs,
  mergeConfig,
  OPTIMIZERS,
  parseArgs,
  type RunConfig,
  readConfigFile,
  scheduledLr,
  UsageError,
  validateConfig,
} from './options.js';
export { boundaryPng, boundarySvg } from './plot/boundary.js';
export { type ChartSpec, chartPng, chartSvg, type Series } from './plot/chart.js';
export { encodePng } from './plot/png.js';
export { type RasteriseOptions, svgToPng } from './plot/rasterise.js';
export { terminalChart } from './plot/terminal.js';
export { makeSchedule, type RunSchedule } from './schedulers.js';
export { type TrainOptions, type TrainResult, train } from './train.js';
