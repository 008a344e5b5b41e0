#!/usr/bin/env node
// Runs the backend in headless Chromium on navigator.gpu (Debian's /usr/bin/chromium; on a
// machine without a GPU, Chromium falls back to SwiftShader). Bundles a small check with
// esbuild, serves it on localhost, waits for the page to POST its result, and prints it.
// Exit code 1 on failure.
// Usage: node packages/backend-webgpu/scripts/browser-smoke.mjs
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { CHROMIUM, CHROMIUM_FLAGS } from '../../../tools/test-setup/chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const entry = `
import { setBackend, tensor, linear, softmaxCrossEntropy } from '@nabla/core';
import '${join(here, '../src/index.ts')}';
const report = (text) => fetch('/result', { method: 'POST', body: text });
(async () => {
  try {
    const b = await setBackend('webgpu');
    const x = tensor([[1, 2], [3, 4]]);
    const y = await x.matmul(x).data();
    const l = await linear(x, tensor([[1, -1]]), tensor([0.5]), { relu: true }).data();
    const ce = await softmaxCrossEntropy(tensor([[0, 0]]), tensor([1], { dtype: 'int32' })).data();
    let sync = 'no error';
    try { x.dataSync(); } catch (e) { sync = e.message; }
    await report('RESULT ' + JSON.stringify({ adapter: b.capabilities.info, matmul: [...y], linear: [...l], ce: [...ce], sync }));
  } catch (e) {
    await report('ERROR ' + e.message);
  }
})();
`;
const bundle = await build({
  stdin: { contents: entry, resolveDir: here, loader: 'ts' },
  bundle: true,
  format: 'esm',
  write: false,
  platform: 'browser',
  external: ['webgpu'],
});
const html = `<!doctype html><body><script type="module">${bundle.outputFiles[0].text}</script></body>`;
let browser = null;
const profile = join(tmpdir(), `nabla-webgpu-smoke-${process.pid}`);
const timer = setTimeout(() => finish('no result from the page within 120 s'), 120_000);
function finish(line) {
  clearTimeout(timer);
  console.log(line);
  browser?.kill();
  server.close();
  setTimeout(() => rmSync(profile, { recursive: true, force: true }), 500);
  setTimeout(
    () => process.exit(line.startsWith('RESULT') && line.includes('"matmul":[7,10,15,22]') ? 0 : 1),
    600,
  );
}
const server = createServer((req, res) => {
  if (req.method === 'POST') {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      res.end();
      finish(body);
    });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html' }).end(html);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;
const flags = [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, url];
browser = execFile(CHROMIUM, flags, (err) => {
  if (err && !err.killed) finish(`ERROR chromium exited: ${err.message.slice(0, 500)}`);
});
