/**
 * Where a worker module is, written once for every pool: beside the module that starts it, compiled
 * (`dist/…/x.js`) or as its TypeScript source (`src/…/x.ts`, when m1kit runs from a checkout's sources,
 * e.g. under the test runner). A source module runs with module hooks (ts-hooks.mjs) that compile it
 * and everything it imports on load, so the same typed module runs in both cases.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface WorkerEntry {
  /** The module the worker thread runs. */
  url: URL;
  /** Node options for the worker thread: the parent's, less those a module entry refuses, plus `ownArgv`. */
  execArgv: string[];
  /** The options the entry itself needs, used alone when Node refuses an inherited one (a V8 or per-process option such as --expose-gc or --max-old-space-size). */
  ownArgv: string[];
}

/** Hooks that let a worker thread import TypeScript sources (used only when no compiled module exists). */
const TS_REGISTER = new URL('./ts-register.mjs', import.meta.url);

const exists = (u: URL) => u.protocol === 'file:' && existsSync(fileURLToPath(u));

/** The parent's options, less those that would make a worker refuse its module entry file. */
function inheritedArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith('--input-type') && a !== '-e' && a !== '--eval');
}

/**
 * The worker module `specifier` (as in an import: './hash-thread.js') relative to `base` (the caller's
 * import.meta.url): its compiled file, else its TypeScript source with the hooks; undefined when neither
 * exists (the caller then runs its work in this thread).
 * @example const e = workerEntry('./encode-worker.js', import.meta.url)
 */
export function workerEntry(specifier: string, base: string | URL): WorkerEntry | undefined {
  const js = new URL(specifier, base);
  if (exists(js)) return { url: js, execArgv: inheritedArgv(), ownArgv: [] };
  const ts = new URL(specifier.replace(/\.js$/, '.ts'), base);
  if (ts.href !== js.href && exists(ts) && exists(TS_REGISTER)) {
    const own = ['--import', TS_REGISTER.href];
    return { url: ts, execArgv: [...inheritedArgv(), ...own], ownArgv: own };
  }
  return undefined;
}
