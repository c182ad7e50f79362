import { defineConfig } from 'vitest/config';
import { webgpuEnv } from './test/runtime/webgpu-env.mjs';
import { wasmInlineVite } from './scripts/wasm-inline.mjs';

// `import bytes from './x.wasm'` yields a function returning the module's bytes, decoded on first call,
// with the same encoding scripts/build.mjs inlines into the bundle (scripts/wasm-inline.mjs), so the
// sources run under vitest unchanged (see src/wasm.d.ts). Vite itself would refuse a plain .wasm
// import (it only knows `?init`). The bytes come from build/*.wasm, which `npm run build` writes
// (scripts/test.mjs builds first when stale).

// Relaxed SIMD: Node 20's V8 validates it only behind --experimental-wasm-relaxed-simd (a V8 flag,
// refused in NODE_OPTIONS, accepted on the command line of a forked worker). Newer Node ships it
// on by default and may drop the flag, so pass it only where this Node needs it: validate a tiny
// module that uses f32x4.relaxed_madd.
//   (module (func (result v128) v128.const f32x4 0 0 0 0 v128.const ... v128.const ... f32x4.relaxed_madd))
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // func 0 has type 0
  0x0a, 0x3d, 0x01, 0x3b, 0x00, // code: one body, 0x3b bytes, no locals
  0xfd, 0x0c, ...new Array(16).fill(0), // v128.const
  0xfd, 0x0c, ...new Array(16).fill(0), // v128.const
  0xfd, 0x0c, ...new Array(16).fill(0), // v128.const
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd (0x105)
  0x0b, // end
]);
const relaxedNeedsFlag = !WebAssembly.validate(RELAXED_PROBE);

export default defineConfig({
  plugins: [wasmInlineVite()],
  test: {
    include: ['test/**/*.test.ts'],
    // test/runtime/ holds the smoke suite run against the built bundle in Node, Deno and
    // Chromium by scripts/test.mjs, not through vitest.
    exclude: ['test/runtime/**', '**/node_modules/**', 'dist/**'],
    environment: 'node',
    // forks, not threads: V8 flags such as the one below are rejected in a worker_thread's
    // execArgv (ERR_WORKER_INVALID_EXEC_ARGV) but work on a child process's command line.
    pool: 'forks',
    execArgv: relaxedNeedsFlag ? ['--experimental-wasm-relaxed-simd'] : [],
    // WebGPU in Node through SwiftShader where chromium is installed (test/runtime/webgpu-env.mjs): the
    // Vulkan loader reads these at process start, so they go into the forked workers' environment.
    env: webgpuEnv(),
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
  },
});
