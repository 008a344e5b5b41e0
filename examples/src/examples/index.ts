/** The examples by name. */
import type { ExampleDef } from '../example.js';
import { batchnorm } from './batchnorm.js';
import { mnist } from './mnist.js';
import { regression } from './regression.js';
import { sequence } from './sequence.js';
import { spirals } from './spirals.js';
import { tabular } from './tabular.js';

export const EXAMPLES: Record<string, ExampleDef> = {
  spirals,
  mnist,
  batchnorm,
  sequence,
  regression,
  tabular,
};
