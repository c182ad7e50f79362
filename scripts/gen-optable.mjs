// Generates assembly/codes.ts, the op codes of the AssemblyScript kernels, from the op table
// (src/core/optable.ts), so that the kernels and the TypeScript side can never disagree on a number.
// scripts/build.mjs runs it before asc; `node scripts/gen-optable.mjs` runs it alone. The file is written
// only when its text changes (build.mjs rebuilds the kernels when a file in assembly/ is newer than them).
// The table is read by compiling it with esbuild's transform and importing the result: it has no imports.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TABLE = 'src/core/optable.ts';
export const OUTPUT = 'assembly/codes.ts';

/** The op table module, evaluated from its TypeScript source. */
export async function loadOpTable(dir = root) {
  const source = readFileSync(join(dir, TABLE), 'utf8');
  const { code } = await transform(source, { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: TABLE });
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

/** relu → RELU, leakyRelu → LEAKY_RELU, sumSquares → SUM_SQUARES. */
const snake = (name) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** The text of assembly/codes.ts for a loaded table. */
export function renderAssemblyCodes(t) {
  const out = [
    `// GENERATED FILE — do not edit. Written by scripts/gen-optable.mjs from ${TABLE} (the op table)`,
    '// when `npm run build` runs, before asc compiles the kernels; not kept in git. Change the table instead.',
    '',
  ];
  const block = (title, prefix, table) => {
    out.push(`// ${title}`);
    for (const [name, d] of Object.entries(table)) out.push(`/** ${name}: ${d.doc} */`, `export const ${prefix}${snake(name)}: i32 = ${d.code};`);
    out.push('');
  };
  block('Unary functions (UNARY); the activations of the gemm epilogue are among them.', 'U_', t.UNARY);
  block('Binary functions (BINARY).', 'B_', t.BINARY);
  block('Reductions (REDUCE).', 'R_', t.REDUCE);
  block('Label modes of the softmax cross-entropy kernels (LABEL_MODE).', 'L_', t.LABEL_MODE);
  block('Optimizer kinds (OPTIM).', 'O_', t.OPTIM);
  const reads = (what) => {
    const ops = Object.entries(t.UNARY).filter(([, d]) => d.grad === what || d.grad === 'xy').map(([n]) => `op == U_${snake(n)}`);
    return ops.length ? ops.join(' || ') : 'false';
  };
  out.push(
    "// What each unary op's derivative reads besides dy (UNARY[op].grad): the gradient kernels load only that.",
    '// @ts-ignore: decorator',
    `@inline export function unaryGradReadsX(op: i32): bool {\n  return ${reads('x')};\n}`,
    '// @ts-ignore: decorator',
    `@inline export function unaryGradReadsY(op: i32): bool {\n  return ${reads('y')};\n}`,
    '',
    '// The scalar arguments of the optimizer kernels (assembly/optim.ts), in order: the named `hyper` fields',
    '// of OPTIM, which the TypeScript side reads through HYPER.',
  );
  for (const [name, d] of Object.entries(t.OPTIM)) out.push(`//   ${name}: ${d.hyper.join(', ')}`);
  return `${out.join('\n')}\n`;
}

/** Writes assembly/codes.ts when its text differs; returns whether it did. */
export async function generate(dir = root) {
  const text = renderAssemblyCodes(await loadOpTable(dir));
  const file = join(dir, OUTPUT);
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return false;
  writeFileSync(file, text);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const changed = await generate();
  console.log(changed ? `gen-optable: wrote ${OUTPUT}` : `gen-optable: ${OUTPUT} is up to date`);
}
