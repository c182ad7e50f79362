// A fresh project with simdnn installed from its packed tarball (`npm pack`), as a user gets it: only the
// files package.json publishes, reached through its `exports`. Tools a user would add themselves
// (typescript, esbuild) are linked from this repository's node_modules. Needs dist/ (npm run build).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

/** Throws unless dist/ is built and newer than src/. */
export function checkBuilt(): void {
  const index = join(root, 'dist', 'index.js');
  if (!existsSync(index)) throw new Error('dist/index.js is missing: run `npm run build` first.');
}

/** Packs the package once per process (npm pack, without the prepare script) and returns the tarball. */
let packed: string | null = null;
export function tarball(): string {
  if (packed) return packed;
  checkBuilt();
  const dest = mkdtempSync(join(tmpdir(), 'simdnn-pack-'));
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  packed = join(dest, JSON.parse(out)[0].filename);
  return packed;
}

/** An empty ESM project in a temp folder with simdnn installed from the tarball; `tools` are linked from the repo. */
export function freshProject(tools: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'simdnn-project-'));
  const nm = join(dir, 'node_modules');
  mkdirSync(join(nm, 'simdnn'), { recursive: true });
  mkdirSync(join(nm, '.bin'));
  execFileSync('tar', ['xzf', tarball(), '-C', join(nm, 'simdnn'), '--strip-components=1']);
  const pkg = JSON.parse(readFileSync(join(nm, 'simdnn', 'package.json'), 'utf8'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'try-simdnn', private: true, type: 'module', dependencies: { simdnn: pkg.version } }, null, 2));
  for (const [name, rel] of Object.entries(pkg.bin as Record<string, string>)) symlinkSync(join('..', 'simdnn', rel), join(nm, '.bin', name));
  for (const t of tools) {
    symlinkSync(join(root, 'node_modules', t), join(nm, t));
    if (!existsSync(join(root, 'node_modules', t, 'package.json'))) continue; // a scope folder (@esbuild)
    const tpkg = JSON.parse(readFileSync(join(root, 'node_modules', t, 'package.json'), 'utf8'));
    const bins = typeof tpkg.bin === 'string' ? { [t]: tpkg.bin } : (tpkg.bin ?? {});
    for (const [name, rel] of Object.entries(bins as Record<string, string>)) symlinkSync(join('..', t, rel), join(nm, '.bin', name));
  }
  return dir;
}

/** The mtime of the newest file among `paths` (for staleness checks). */
export function mtime(path: string): number {
  return statSync(path).mtimeMs;
}
