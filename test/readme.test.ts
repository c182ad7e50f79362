// Every code block of README.md runs as written in an empty project that installed the packed tarball:
// ```js blocks with Node (or Deno, where marked), ```sh blocks with bash (npx finds simdnn's CLI and the
// linked esbuild). A block that is not meant to run says so in an HTML comment on the line before it:
//   <!-- readme-test: skip (why) -->       not run (shell steps for the repository, registry installs)
//   <!-- readme-test: deno -->             run with `deno run --allow-read` instead of node
//   <!-- readme-test: file=NAME -->        saved under NAME (later blocks use it), and run
//   <!-- readme-test: expect=REGEX -->     the output must match REGEX
// Blocks run in order in one folder, each with a time limit: a script that does not exit fails.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshProject, root } from './pack.js';

interface Block {
  lang: string;
  code: string;
  line: number;
  skip: string | null;
  deno: boolean;
  file: string | null;
  expect: RegExp | null;
}

function blocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^```(\w+)\s*$/);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
    const directives: string[] = [];
    for (let j = start - 1; j >= 0 && /^<!-- readme-test: .* -->$/.test(lines[j]); j--) directives.push(lines[j].slice('<!-- readme-test: '.length, -' -->'.length));
    const get = (key: string) => directives.find((d) => d.startsWith(`${key}=`))?.slice(key.length + 1) ?? null;
    const skip = directives.find((d) => d.startsWith('skip'));
    out.push({
      lang: open[1], code: body.join('\n'), line: start + 1,
      skip: skip ? skip.replace(/^skip\s*/, '') || 'no reason given' : null,
      deno: directives.includes('deno'), file: get('file'), expect: get('expect') ? new RegExp(get('expect')!) : null,
    });
  }
  return out;
}

const all = blocks(readFileSync(join(root, 'README.md'), 'utf8'));
let dir: string;
const deno = join(root, 'node_modules', '.bin', 'deno');

beforeAll(() => {
  dir = freshProject(['esbuild', '@esbuild']);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README.md', () => {
  it('marks every block it does not run, with a reason, and keeps that list small', () => {
    const skipped = all.filter((b) => b.skip);
    for (const b of skipped) expect(b.skip, `line ${b.line}`).toMatch(/^\(.{10,}\)$/);
    expect(skipped.length).toBeLessThanOrEqual(4);
    for (const b of all) expect(['js', 'sh', 'ts'], `line ${b.line}: a \`\`\`${b.lang} block`).toContain(b.lang);
  });

  const runnable = all.filter((b) => !b.skip);
  it.each(runnable.map((b, i) => [`line ${b.line} (${b.lang}${b.deno ? ', deno' : ''})`, i] as const))('block at %s runs in a fresh project', (_, i) => {
    const b = runnable[i];
    const name = b.file ?? `readme-${b.line}.${b.lang === 'sh' ? 'sh' : 'mjs'}`;
    writeFileSync(join(dir, name), `${b.code}\n`);
    const env = { ...process.env, PATH: `${join(dir, 'node_modules', '.bin')}:${process.env.PATH}`, NO_COLOR: '1' };
    const [cmd, args] = b.lang === 'sh' ? ['bash', ['-eo', 'pipefail', name]] : b.deno ? [deno, ['run', '--allow-read', name]] : [process.execPath, [name]];
    if (b.deno && !existsSync(deno)) throw new Error('deno is missing from node_modules (npm install)');
    const r = spawnSync(cmd, args, { cwd: dir, env, encoding: 'utf8', timeout: 150_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.signal, `README line ${b.line} did not exit within 150 s:\n${out.slice(-3000)}`).toBeNull();
    expect(r.status, `README line ${b.line} failed:\n${out.slice(-3000)}`).toBe(0);
    if (b.expect) expect(out).toMatch(b.expect);
  }, 180_000);
});
