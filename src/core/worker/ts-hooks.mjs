// Module hooks for a worker thread started from m1kit's TypeScript sources (see entry.ts): an import of
// './x.js' resolves to './x.ts' where only the source exists, and .ts files are compiled on load (type
// syntax removed, nothing bundled) with the TypeScript compiler of the checkout's dev dependencies.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

let compile;

async function compiler() {
  if (compile) return compile;
  try {
    // the oxc transform vite ships: fast to load, which matters for short-lived workers
    const { transformSync } = await import('rolldown/utils');
    compile = (path, text) => {
      const r = transformSync(path, text, { lang: 'ts', sourcemap: false });
      if (r.errors?.length) throw new Error(`${path}: ${r.errors[0].message}`);
      return r.code;
    };
  } catch {
    const ts = (await import('typescript')).default;
    compile = (path, text) => ts.transpileModule(text, { fileName: path, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false } }).outputText;
  }
  return compile;
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (context.parentURL && specifier.endsWith('.js') && (specifier.startsWith('.') || specifier.startsWith('file:'))) {
      const ts = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
      if (existsSync(fileURLToPath(ts))) return { url: ts.href, format: 'module', shortCircuit: true };
    }
    throw e;
  }
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const path = fileURLToPath(url);
  const text = await readFile(path, 'utf8');
  return { format: 'module', source: (await compiler())(path, text), shortCircuit: true };
}
