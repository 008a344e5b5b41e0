/** Writes configs/schema.json from the code (`npm run config-schema --workspace @nabla/examples`). */
import { writeFileSync } from 'node:fs';
import { configSchema } from '../src/config-schema.js';
import { EXAMPLES } from '../src/examples/index.js';

const path = new URL('../configs/schema.json', import.meta.url);
writeFileSync(path, `${JSON.stringify(configSchema(EXAMPLES), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
