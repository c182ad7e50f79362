// The layers of ARCHITECTURE.md, enforced: every import in src/ points to its own layer or one below it,
// nothing below the runtime loads the optional parts, and the code below the public API compiles
// without the method sugar of src/methods.ts (internal code calls functions).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The layers, lowest first: a file may import files of its own layer and the layers before it. */
export const LAYERS: { name: string; paths: string[] }[] = [
  { name: 'core', paths: ['src/core/', 'src/wasm.d.ts'] },
  { name: 'backend', paths: ['src/backend/'] },
  { name: 'autograd/ops', paths: ['src/autograd/', 'src/ops/'] },
  { name: 'nn/losses/optim', paths: ['src/nn/', 'src/optim/'] },
  { name: 'train', paths: ['src/train/', 'src/explain/'] },
  { name: 'data/io', paths: ['src/data/', 'src/io/', 'src/metrics.ts'] },
  { name: 'runtime', paths: ['src/runtime/'] },
  { name: 'api', paths: ['src/index.ts', 'src/methods.ts', 'src/api/'] },
  { name: 'cli', paths: ['src/cli.ts', 'src/cli/'] },
];

function layerOf(file: string): number {
  const i = LAYERS.findIndex((l) => l.paths.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
  if (i < 0) throw new Error(`${file} belongs to no layer of test/architecture.test.ts: add it to one (and to ARCHITECTURE.md)`);
  return i;
}

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((e) => {
    const p = `${dir}/${e}`;
    return statSync(join(root, p)).isDirectory() ? sources(p) : /\.ts$/.test(e) ? [p] : [];
  });
}

/** Relative imports of a file into src/ (static, re-exports, dynamic, type-only alike); build outputs such as build/*.wasm are not code. */
function imports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|(^|[^:])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) out.push(normalize(join(dirname(file), m[1])).replace(/\.js$/, '.ts'));
  return out.filter((t) => t.startsWith('src/'));
}

describe('architecture', () => {
  const files = sources('src');

  it('every import points to its own layer or one below (core ← backend ← autograd/ops ← nn/losses/optim ← train ← data/io ← runtime ← api ← cli)', () => {
    const bad: string[] = [];
    for (const f of files) for (const t of imports(f)) if (layerOf(t) > layerOf(f)) bad.push(`${f} (${LAYERS[layerOf(f)].name}) imports ${t} (${LAYERS[layerOf(t)].name})`);
    expect(bad).toEqual([]);
  });

  it('only the runtime and the API load optional parts (src/runtime/lazy.ts)', () => {
    const users = files.filter((f) => imports(f).includes('src/runtime/lazy.ts'));
    expect(users.every((f) => layerOf(f) >= layerOf('src/runtime/lazy.ts'))).toBe(true);
    expect(users.length).toBeGreaterThan(0);
  });

  it('the parts import no entry point (the build keeps the core in one chunk, not src/runtime/parts)', () => {
    for (const f of files.filter((f) => f.startsWith('src/runtime/parts/'))) expect(imports(f).filter((t) => t === 'src/index.ts'), f).toEqual([]);
  });

  it('below the public API, the code compiles without the method sugar: internal code calls functions', async () => {
    const ts = (await import('typescript')).default;
    const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.internal.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    expect(config.fileNames.some((f) => f.endsWith('src/methods.ts'))).toBe(false);
    const program = ts.createProgram(config.fileNames, config.options);
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
    expect(errors).toEqual([]);
  }, 120_000);
});
