import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/m1kit.js', import.meta.url));

/** Run the built CLI (dist/) and return exit code, stdout, stderr; never throws on non-zero exit. */
export async function m1kit(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeout?: number } = {}) {
  const r = await execa('node', [BIN, ...args], { reject: false, cwd: opts.cwd ?? REPO, env: { NO_COLOR: '1', ...opts.env }, timeout: opts.timeout ?? 120_000 });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Start the built CLI without waiting for it (to signal it, or run another beside it); same defaults as m1kit(). */
export function m1kitChild(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
  return execa('node', [BIN, ...args], { reject: false, cwd: opts.cwd ?? REPO, env: { NO_COLOR: '1', ...opts.env } });
}

/** Parse the single JSON document a `--json` run prints. */
export function jsonDoc(stdout: string): any {
  return JSON.parse(stdout);
}
