// `simdnn info`: which backend runs here, what the engine supports, and why anything was left out.
import * as sd from '../index.js';
import { BACKENDS } from './defaults.js';
import { choice, parse, str } from './args.js';
import { infoHelp } from './help.js';
import { version, type CliIO } from './io.js';
import { table } from './format.js';
import { describeBackend } from './train.js';

const CMD = 'simdnn info';

export async function info(argv: string[], io: CliIO): Promise<number> {
  const { values: v } = parse(CMD, argv, { backend: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, 0);
  if (v.help) {
    io.stdout(infoHelp());
    return 0;
  }
  const backend = choice(CMD, 'backend', str(v.backend), 'auto', BACKENDS);
  const i = await sd.init({ backend });
  const runtimeVersion = typeof process !== 'undefined' ? process.version : '';
  if (v.json) {
    io.stdout(JSON.stringify({ version: version(), ...i, runtimeVersion }, null, 2) + '\n');
    return 0;
  }
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const f = i.features;
  let text = `simdnn ${version()}\n`;
  text += table(
    [
      ['backend', describeBackend(i)],
      ['runtime', `${i.runtime} ${runtimeVersion}`.trim()],
      ['WebAssembly SIMD', yes(f.simd)],
      ['relaxed SIMD', yes(f.relaxedSimd)],
      ['threads', yes(f.threads)],
      ['SharedArrayBuffer', yes(f.sharedArrayBuffer)],
      ['cross-origin isolated', yes(f.crossOriginIsolated)],
      ['WebGPU', yes(f.webgpu)],
    ],
    () => false,
    '',
  );
  if (i.notes.length) text += `notes\n${i.notes.map((n) => `  - ${n}\n`).join('')}`;
  io.stdout(text);
  return 0;
}
