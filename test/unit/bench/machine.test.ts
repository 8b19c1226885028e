/** Machine facts in a bench result, and the portable ceiling probes used when the addon is missing. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitRevision } from '../../../src/core/bench/machine.js';
import { measurePortablePeak } from '../../../src/core/bench/peak.js';
import { ACCUMULATORS, FLOPS_PER_ITER, fmaModuleBytes } from '../../../src/core/bench/wasm-fma.js';
import { tmpDir } from '../../helpers/tmp.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('gitRevision', () => {
  it('reads a loose ref, a packed ref, a detached HEAD; GITHUB_SHA wins; null outside a checkout', async () => {
    const root = await tmpDir();
    const git = join(root, '.git');
    await mkdir(join(git, 'refs', 'heads'), { recursive: true });
    await writeFile(join(git, 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(join(git, 'refs', 'heads', 'main'), `${A}\n`);
    expect(await gitRevision(root, {})).toBe(A);
    await writeFile(join(git, 'HEAD'), 'ref: refs/heads/feature\n');
    await writeFile(join(git, 'packed-refs'), `# pack-refs with: peeled\n${B} refs/heads/feature\n`);
    expect(await gitRevision(root, {})).toBe(B);
    await writeFile(join(git, 'HEAD'), `${A}\n`);
    expect(await gitRevision(root, {})).toBe(A);
    expect(await gitRevision(root, { GITHUB_SHA: B.toUpperCase() })).toBe(B);
    expect(await gitRevision(await tmpDir(), {})).toBeNull();
  });

  it('reads a linked worktree: .git is a gitdir file, the branch ref lives in the common dir', async () => {
    const root = await tmpDir();
    const common = join(root, 'main', '.git');
    const wt = join(common, 'worktrees', 'wt');
    await mkdir(join(common, 'refs', 'heads'), { recursive: true });
    await mkdir(wt, { recursive: true });
    await mkdir(join(root, 'wt'));
    await writeFile(join(root, 'wt', '.git'), `gitdir: ${wt}\n`);
    await writeFile(join(wt, 'HEAD'), 'ref: refs/heads/wt\n');
    await writeFile(join(wt, 'commondir'), '../..\n');
    await writeFile(join(common, 'refs', 'heads', 'wt'), `${A}\n`);
    expect(await gitRevision(join(root, 'wt'), {})).toBe(A);
    await writeFile(join(wt, 'HEAD'), 'ref: refs/heads/packed\n');
    await writeFile(join(common, 'packed-refs'), `${B} refs/heads/packed\n`);
    expect(await gitRevision(join(root, 'wt'), {})).toBe(B);
    await writeFile(join(wt, 'HEAD'), `${B}\n`); // detached in the worktree
    expect(await gitRevision(join(root, 'wt'), {})).toBe(B);
  });
});

describe('portable probes', () => {
  it('the hand-assembled wasm module validates and computes the a·m + c recurrence', async () => {
    const bytes = fmaModuleBytes();
    expect(WebAssembly.validate(bytes)).toBe(true);
    const { instance } = await WebAssembly.instantiate(bytes);
    const run = instance.exports.run as (iters: number) => number;
    // Accumulator i starts at 1 + i/64 and follows a ← a·0.9999999 + 1e-7 (fixed point 1); in float64:
    let want = 0;
    for (let i = 0; i < ACCUMULATORS; i++) {
      let a = Math.fround(1 + i / 64);
      for (let t = 0; t < 3; t++) a = Math.fround(Math.fround(a * Math.fround(0.9999999)) + Math.fround(1e-7));
      want += a;
    }
    // Float32 lane arithmetic vs the same steps rounded per operation: equal up to the final f32 summation.
    expect(Math.abs(run(3) - want)).toBeLessThan(1e-5);
    expect(FLOPS_PER_ITER).toBe(ACCUMULATORS * 4 * 2);
  });

  it('measures positive FMA throughput and copy bandwidth on worker threads', async () => {
    const p = await measurePortablePeak({ threads: 1, seconds: 0.1 });
    expect(p.fmaGflops).toBeGreaterThan(0);
    expect(p.bandwidthGBs).toBeGreaterThan(0);
    expect(p.fmaMethod).toMatch(/lower bound/);
  });
});
