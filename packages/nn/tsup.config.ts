import { library } from '../../tools/tsup-preset.mjs';

// Module.toString() prints the class name (PyTorch's repr); keep it through bundling.
export default library({ keepNames: true });
