import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';

const dirs: string[] = [];

/** A fresh temporary directory removed after the current test. */
export async function tmpDir(prefix = 'm1kit-test-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/**
 * A temporary directory shared by all tests of a file: its path (under the OS temp dir, starting with
 * `prefix`) is fixed when the file loads, so the file can name paths inside it at its top level; it is
 * made before the file's first test and removed after its last.
 */
export function fileTmpDir(prefix: string): string {
  const dir = join(tmpdir(), `${prefix}${randomUUID().slice(0, 8)}`);
  beforeAll(() => mkdir(dir, { recursive: true }).then(() => undefined));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
