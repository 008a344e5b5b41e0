import { library } from '../../tools/tsup-preset.mjs';

// `nabla/backends` loads a backend with import() when asked for it.
export default library({ entry: ['src/index.ts', 'src/backends.ts'], lazyImports: true });
