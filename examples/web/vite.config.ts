import { defineConfig } from 'vite';
import { mnistDigits } from './build/mnist-digits.js';

// Cross-origin isolation gives the page SharedArrayBuffer, which the wasm backend's
// worker threads need; without these headers it runs on one thread.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  server: { headers: isolation },
  preview: { headers: isolation },
  build: { outDir: 'dist', target: 'es2022', chunkSizeWarningLimit: 2000 },
  worker: { format: 'es' },
  plugins: [mnistDigits()],
});
