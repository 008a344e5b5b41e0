import { backend } from '../../tools/tsup-preset.mjs';

export default backend('@nabla/backend-wasm');
