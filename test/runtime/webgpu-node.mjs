// Node runner of the runtime smoke suite on the 'webgpu' backend (after `npm run build`):
//   node test/runtime/webgpu-node.mjs
// The GPU comes from the npm 'webgpu' package (Dawn), passed as init({backend: 'webgpu', gpu}). On a
// machine without a GPU it needs SwiftShader's Vulkan driver in the environment at process start
// (scripts/test.mjs sets it from webgpu-env.mjs; by hand: VK_ICD_FILENAMES=/usr/lib/chromium/
// vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium). Without an adapter the suite reports itself
// skipped, or failed when CI is set. SIMDNN_DIST=path/to/bundle.js tests another bundle.
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { run } from './smoke.mjs';
import { MARKER, report } from './report.mjs';
import './webgpu.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = pathToFileURL(resolve(root, process.env.SIMDNN_DIST || 'dist/index.js')).href;
const suite = 'node-webgpu';
const inCI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

let code;
try {
  const { create } = await import('webgpu');
  // Dawn's zero-initialisation of workgroup memory is off: SwiftShader compiles it slowly, and the
  // kernels never read workgroup memory before writing it (src/backend/webgpu/kernels.ts).
  const gpu = create(['enable-dawn-features=disable_workgroup_init']);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    const why = `no WebGPU adapter (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'})`;
    console.log(`${suite}: ${why}`);
    if (inCI) code = report(suite, { passed: 0, failed: 1, failures: [{ name: 'adapter', message: why }] });
    else {
      console.log(`# ${suite}: skipped: ${why}`);
      console.log(MARKER + JSON.stringify({ suite, passed: 0, failed: 0, skipped: 1 }));
      code = 0;
    }
  } else {
    const sn = await import(dist);
    const r = await run(sn, (l) => console.log(l), { runtime: 'node', once: false, backends: [{ backend: 'webgpu', options: { gpu } }] });
    sn.shutdown();
    code = report(suite, r);
  }
} catch (e) {
  console.error(`${suite}: could not run the smoke suite against ${dist}:\n${e?.stack ?? e}`);
  code = report(suite, { passed: 0, failed: 1, failures: [{ name: 'load', message: String(e?.message ?? e) }] });
}
process.exit(code);
