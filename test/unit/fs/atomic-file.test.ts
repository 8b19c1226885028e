/**
 * AtomicFile: the output exists under its name only once complete. Until then its bytes are in
 * `<path>.incomplete` (header written, grown to its size); finish() renames it after the check passed,
 * a failed check or abort() removes it, and a temporary that cannot be created is the caller's error.
 */
import { existsSync } from 'node:fs';
import { readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtomicFile } from '../../../src/core/fs/atomic-file.js';
import { tmpDir } from '../../helpers/tmp.js';

const grow = (fd: FileHandle, _from: number, size: number) => fd.truncate(size);

describe('AtomicFile', () => {
  it('writes into <path>.incomplete and renames it into place on finish', async () => {
    const path = join(await tmpDir(), 'out.bin');
    const f = await AtomicFile.create(path, { header: Buffer.from('HEAD'), size: 10, grow });
    expect(existsSync(`${path}.incomplete`)).toBe(true);
    expect(existsSync(path)).toBe(false);
    await f.write(Buffer.from('xy'), 6);
    await f.finish();
    expect(existsSync(`${path}.incomplete`)).toBe(false);
    expect([...(await readFile(path))]).toEqual([...Buffer.from('HEAD'), 0, 0, ...Buffer.from('xy'), 0, 0]);
  });

  it('a failed completeness check removes the file and throws that error; abort is safe twice', async () => {
    const path = join(await tmpDir(), 'out.bin');
    const f = await AtomicFile.create(path, { header: Buffer.from('H'), size: 4, grow });
    await expect(f.finish(new Error('tensor "a" got 0 of 3 bytes'))).rejects.toThrow('tensor "a" got 0 of 3 bytes');
    expect(existsSync(`${path}.incomplete`)).toBe(false);
    expect(existsSync(path)).toBe(false);
    await f.abort();
    const g = await AtomicFile.create(path, { header: Buffer.from('H'), size: 4, grow });
    await g.abort();
    await g.abort();
    expect(existsSync(`${path}.incomplete`)).toBe(false);
  });

  it('settles the caller\'s pending work before the file is synced or closed', async () => {
    const path = join(await tmpDir(), 'out.bin');
    const order: string[] = [];
    const f = await AtomicFile.create(path, { header: Buffer.from('H'), size: 1, grow, settle: async () => void order.push('settle') });
    await f.sync();
    await f.finish();
    expect(order).toEqual(['settle', 'settle']);
  });

  it('maps a temporary that cannot be created through openError', async () => {
    const path = join(await tmpDir(), 'no-such-dir', 'out.bin');
    await expect(AtomicFile.create(path, { header: Buffer.alloc(0), size: 0, grow, openError: (_e, tmp) => new Error(`cannot create ${tmp}`) })).rejects.toThrow(`cannot create ${path}.incomplete`);
  });
});
