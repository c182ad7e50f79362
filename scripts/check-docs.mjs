// The public API's doc comments, checked with the TypeScript compiler: every symbol src/index.ts exports
// (functions, classes, interfaces, types, constants, and the members of the `data`, `metrics`, `losses`,
// `optimizers`, `schedules` and `layers` namespaces), and every public member of its classes and
// interfaces, needs a doc comment; TypeDoc builds the API reference from them (npm run docs). Members
// marked @internal are not public. `node scripts/check-docs.mjs` prints what lacks one and exits 1;
// test/docs.test.ts runs the same check.
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The public symbols without a doc comment, as 'name (file:line)'; and the doc text of every one, by name. */
export function undocumented(entry = join(root, 'src', 'index.ts')) {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  const program = ts.createProgram([entry], { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const missing = [];
  const docs = new Map();
  const seen = new Set();
  const ours = (d) => d && !d.getSourceFile().isDeclarationFile && d.getSourceFile().fileName.startsWith(join(root, 'src'));
  const where = (d) => {
    const sf = d.getSourceFile();
    return `${relative(root, sf.fileName)}:${sf.getLineAndCharacterOfPosition(d.getStart()).line + 1}`;
  };
  const internal = (s) => s.getJsDocTags(checker).some((t) => t.name === 'internal');
  const docOf = (s) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim();
  const visit = (sym, name, members) => {
    if (sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
    const decl = sym.declarations?.find(ours);
    if (!decl || internal(sym)) return;
    const key = `${name}@${where(decl)}`;
    if (seen.has(key)) return;
    seen.add(key);
    // A namespace (export * as data): its members are the public symbols.
    if (sym.flags & ts.SymbolFlags.ValueModule && ts.isSourceFile(decl)) {
      for (const e of checker.getExportsOfModule(sym)) visit(e, `${name}.${e.name}`, true);
      return;
    }
    const doc = docOf(sym);
    docs.set(name, doc);
    if (!doc) missing.push(`${name} (${where(decl)})`);
    if (!members || !(sym.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface))) return;
    const type = checker.getDeclaredTypeOfSymbol(sym);
    for (const m of checker.getPropertiesOfType(type)) {
      const md = m.declarations?.find(ours);
      if (!md || internal(m) || m.name.startsWith('_') || m.name.startsWith('__@')) continue;
      const mods = ts.getCombinedModifierFlags(md);
      if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) || (md.name && ts.isPrivateIdentifier(md.name))) continue;
      // Inherited members count too: a base interface need not be exported itself (CommonOptions).
      const mdoc = docOf(m);
      docs.set(`${name}.${m.name}`, mdoc);
      if (!mdoc) missing.push(`${name}.${m.name} (${where(md)})`);
    }
  };
  const mod = checker.getSymbolAtLocation(program.getSourceFile(entry));
  for (const e of checker.getExportsOfModule(mod)) visit(e, e.name, true);
  return { missing, docs };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { missing } = undocumented();
  for (const m of missing) console.log(`undocumented: ${m}`);
  console.log(missing.length ? `${missing.length} public symbols lack a doc comment` : 'every public symbol has a doc comment');
  process.exitCode = missing.length ? 1 : 0;
}
