// The environment that lets Dawn (the npm 'webgpu' package) find a WebGPU adapter in Node on a machine
// without a GPU: SwiftShader's Vulkan driver from Debian's chromium package (see PLATFORM.md, "WebGPU
// without a GPU"). The Vulkan loader reads these variables when the process starts, so they must be in the
// environment of the process that loads Dawn: vitest.config.ts passes them to its workers, scripts/test.mjs
// to the Node smoke run. Variables the caller set already are left alone.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SWIFTSHADER_DIR = '/usr/lib/chromium';
export const SWIFTSHADER_ICD = `${SWIFTSHADER_DIR}/vk_swiftshader_icd.json`;

// Where distributions put the Vulkan loader. Debian installs it only with libvulkan1, which chromium does
// not depend on (it ships its own copy beside the driver), so Dawn's dlopen("libvulkan.so.1") fails there.
const LOADER_PATHS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu'];

/**
 * Variables to add for WebGPU through SwiftShader, or {} when this machine has no SwiftShader driver or
 * the caller already chose a Vulkan driver (VK_ICD_FILENAMES set).
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {Record<string, string>}
 */
export function webgpuEnv(env = process.env) {
  if (process.platform !== 'linux' || env.VK_ICD_FILENAMES || !existsSync(SWIFTSHADER_ICD)) return {};
  /** @type {Record<string, string>} */
  const out = { VK_ICD_FILENAMES: SWIFTSHADER_ICD };
  if (!LOADER_PATHS.some((d) => existsSync(join(d, 'libvulkan.so.1'))) && existsSync(join(SWIFTSHADER_DIR, 'libvulkan.so.1')))
    out.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH ? `${SWIFTSHADER_DIR}:${env.LD_LIBRARY_PATH}` : SWIFTSHADER_DIR;
  if (!env.XDG_RUNTIME_DIR) {
    // SwiftShader and Dawn complain on stderr when there is none.
    const dir = join(tmpdir(), `simdnn-xdg-${process.getuid?.() ?? 0}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    out.XDG_RUNTIME_DIR = dir;
  }
  return out;
}
