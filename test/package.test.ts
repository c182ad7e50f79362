// The package as a user installs it (the packed tarball in a fresh project, test/pack.ts):
// - its declarations type-check with TypeScript's own libraries alone (skipLibCheck off), for both
//   module resolutions, and with the DOM or Node's types present too;
// - a bundle made with esbuild that did not copy the worker script still runs, single-threaded, and
//   info().notes names the URL it tried and the fix;
// - the bundled libraries are not runtime dependencies, and package-lock.json agrees with package.json
//   (so `npm install` on a clone leaves it unchanged).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshProject, root } from './pack.js';

let dir: string;
beforeAll(() => {
  dir = freshProject(['typescript', 'esbuild', '@esbuild', '@types']);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Strict code a user writes, touching the types that once leaked (URL, Blob, AbortSignal, WebAssembly,
// WebGPU) and classificationReport with a Dataset's `string[] | null` classes.
const USER_TS = `
import { init, info, data, mlp, metrics, load, fetchBytes, tensor, type Dataset, type InitOptions, type FitOptions, type TensorInput } from 'simdnn';
const options: InitOptions = { backend: 'wasm' };
await init(options);
const ds: Dataset = await data.load('iris');
const { train, test } = data.split(ds.x, ds.y, { stratify: true });
const model = mlp([4, 8, 3]);
const fitOptions: FitOptions = { loss: 'softmaxCrossEntropy', epochs: 2 };
await model.fit(train.x, train.y, fitOptions);
const report = metrics.classificationReport(model.predictClasses(test.x), test.y, { classNames: ds.classes });
const p = model.predictProba({ data: new Float32Array(8), shape: [2, 4] } satisfies TensorInput);
const s: string = report.text + p.toString() + String(info().backend);
void [s, load, fetchBytes, tensor([1, 2])];
`;

const configs: [string, Record<string, unknown>][] = [
  ['nodenext, lib ES2022 only', { module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2022'], types: [] }],
  ['bundler, lib ES2022 only', { module: 'esnext', moduleResolution: 'bundler', lib: ['ES2022'], types: [] }],
  ['nodenext with @types/node', { module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2022'], types: ['node'] }],
  ['bundler with the DOM', { module: 'esnext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], types: [] }],
];

describe('the packed package', () => {
  it.each(configs)('type-checks in a fresh strict project (%s, skipLibCheck false)', (name, opts) => {
    const file = `use-${name.replace(/\W+/g, '-')}`;
    writeFileSync(join(dir, `${file}.ts`), USER_TS);
    writeFileSync(join(dir, `${file}.json`), JSON.stringify({ compilerOptions: { target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, ...opts }, files: [`${file}.ts`] }));
    const r = spawnSync(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', `${file}.json`], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  }, 150_000);

  it('an esbuild bundle without the worker script runs single-threaded, and info().notes names the URL and the fix', () => {
    writeFileSync(join(dir, 'threads.js'), "import { init, info } from 'simdnn';\nawait init();\nconsole.log(JSON.stringify(info()));\n");
    const esbuild = join(dir, 'node_modules', '.bin', 'esbuild');
    const b = spawnSync(esbuild, ['threads.js', '--bundle', '--format=esm', '--platform=node', '--outfile=bare/threads.js'], { cwd: dir, encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    const r = spawnSync(process.execPath, ['bare/threads.js'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const i = JSON.parse(r.stdout);
    expect(i.backend).toBe('wasm');
    const note = i.notes.join('\n');
    expect(note).toContain(join(dir, 'bare', 'worker.js'));
    expect(note).toMatch(/copy simdnn's worker script \(node_modules\/simdnn\/dist\/worker\.js.*\) beside your bundle, or pass its URL as init\(\{ workerUrl \}\)/);
  }, 90_000);
});

describe('package.json', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));

  it('has no runtime dependencies: what the bundle needs is inside dist/', () => {
    expect(pkg.dependencies ?? {}).toEqual({});
    const dist = readFileSync(join(root, 'dist', 'index.js'), 'utf8') + readFileSync(join(root, 'dist', 'worker.js'), 'utf8');
    expect(dist).not.toMatch(/from\s*"(comlink|papaparse)/);
  });

  it("package-lock.json's root entry matches package.json (npm install would rewrite it otherwise)", () => {
    const top = lock.packages[''];
    for (const key of ['name', 'version', 'license', 'bin', 'engines', 'devDependencies', 'dependencies', 'peerDependencies', 'peerDependenciesMeta'])
      expect(top[key], key).toEqual(key === 'bin' && typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : pkg[key]);
    for (const name of Object.keys(pkg.devDependencies)) expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(pkg.devDependencies[name]);
  });

  it('exports the datasets and the worker script', () => {
    expect(pkg.exports['./data/*']).toBe('./data/*');
    expect(pkg.exports['./worker']).toBe('./dist/worker.js');
  });
});
