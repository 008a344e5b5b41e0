/**
 * `@nabla/backend-cpu`: the pure TypeScript backend of Nabla. Importing the package
 * registers it as `'cpu'`; `await setBackend('cpu')` activates it.
 * @packageDocumentation
 */
import './register.js';

export { CpuBackend, createCpuBackend } from './cpu-backend.js';
