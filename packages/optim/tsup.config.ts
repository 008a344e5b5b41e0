import { library } from '../../tools/tsup-preset.mjs';

export default library();
