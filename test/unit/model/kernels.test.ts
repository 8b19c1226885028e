/**
 * The forward pass on each kernel choice: native (GEMM on bf16 weights, lightning prefill/decode and
 * softmax attention on the addon) and the TypeScript reference (--kernels ts), both against the
 * independent float64 reference on odd sizes (head_dim and hidden not multiples of the vector width,
 * h·d ≠ hidden, GQA group 3, blocks of 16 crossed mid-block), and bf16 native against bf16 emulation.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint.js';
import { generateCheckpoint } from '../../../src/core/fixture/generate.js';
import { forward } from '../../../src/core/model/forward.js';
import { createSession } from '../../../src/core/model/session.js';
import { nativeAvailable } from '../../../src/native/index.js';
import { referenceForward } from './reference.js';
import { cfg, REL_BUDGET, relErr, tokensFor } from './reference-util.js';
import { jsonDoc, m1kit } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';

/**
 * bf16 on the native kernels vs the TypeScript bf16 emulation, routing fixed (every expert selected),
 * weights std 0.05: both round activations to bf16 (2^-9 relative) at the same layer boundaries; the
 * native lightning core keeps QKᵀ, the decayed keys and the state increments in fp32 where the
 * emulation rounds them, and GEMMs accumulate in fp32 instead of float64, so bf16 roundings land on
 * either side of a boundary. The emulation itself is ≈ 1% from fp32 here (its own prefill and decode
 * differ by ≈ 0.8%); observed native vs emulation ≤ 1.1%. 3% (the bf16 budget of
 * test/unit/model/forward.test.ts) allows ~3× and stays far below a wrong formula (≥ 1e-1).
 */
const BF16_NATIVE_VS_EMULATION_REL = 0.03;
/**
 * The native bf16 path may be no further from the fp32 result than this multiple of the official
 * rounding points' own distance from it (observed ≤ 1.23×: the native core rounds less, its GEMMs
 * accumulate in fp32 not float64).
 */
const BF16_NATIVE_VS_EMULATION_ERROR_FACTOR = 2;
/**
 * Weight std of the odd-size model. At the default 0.25 with H = 136 the softmax scores are so sharp
 * that fp32 evaluation order alone moves logits by 1e-5–1e-4 (the TypeScript path too); at 0.1 the
 * model is well conditioned and both paths land at ≈ 1e-6, the regime the budget is derived for.
 */
const ODD_STD = 0.1;
const ODD_BF16_STD = 0.05;

const HAVE_NATIVE = nativeAvailable();
const KERNELS = HAVE_NATIVE ? (['native', 'ts'] as const) : (['ts'] as const);
if (!HAVE_NATIVE) console.warn('test/unit/model/kernels.test.ts: native addon not loaded, only --kernels ts runs here');

/** Odd sizes: d = 24 (not a multiple of 16), H = 136, h·d = 144, GQA 6:2, E = 5 top-2, V = 203, block 16. */
const ODD = cfg({ attn_type_list: [0, 1, 0, 1], num_attention_heads: 6, num_key_value_heads: 2, head_dim: 24, rotary_dim: 10, hidden_size: 136, intermediate_size: 72, num_local_experts: 5, num_experts_per_tok: 2, vocab_size: 203, block: 16 });

async function build(config: Record<string, unknown>, seed: number, std = ODD_STD): Promise<Checkpoint> {
  const dir = await tmpDir('m1kit-kernels-');
  await generateCheckpoint({ out: dir, config, seed, shards: 1, std });
  return Checkpoint.open(dir);
}

describe('forward on each kernel choice vs the float64 reference (fp32)', () => {
  for (const kernels of KERNELS) {
    it(`--kernels ${kernels}: prefill and decode on odd sizes within ${REL_BUDGET}`, async () => {
      const ck = await build(ODD, 3);
      try {
        const tokens = tokensFor(203, 45, 4);
        const ref = await referenceForward(ck, tokens);
        for (const mode of ['prefill', 'decode'] as const) {
          const e = relErr(await forward({ checkpoint: ck, tokens, mode, kernels }), ref);
          expect({ kernels, mode, ok: e < REL_BUDGET, e }).toMatchObject({ kernels, mode, ok: true });
        }
      } finally {
        await ck.close();
      }
    });
  }

  it.skipIf(!HAVE_NATIVE)('native and ts are different code paths (results differ by rounding only)', async () => {
    const ck = await build(ODD, 5);
    try {
      const tokens = tokensFor(203, 30, 6);
      const s = createSession({ checkpoint: ck, kernels: 'native' });
      expect(s.native).toBe(true);
      expect(createSession({ checkpoint: ck, kernels: 'ts' }).native).toBe(false);
      const a = await s.prefill(tokens);
      const b = await forward({ checkpoint: ck, tokens, kernels: 'ts' });
      const e = relErr(a, b);
      expect(e).toBeGreaterThan(0);
      expect(e).toBeLessThan(REL_BUDGET);
    } finally {
      await ck.close();
    }
  });

  it.skipIf(!HAVE_NATIVE)('the committed tiny fixture: native matches the reference, prefill and decode', async () => {
    const ck = await Checkpoint.open('fixtures/tiny');
    try {
      const tokens = tokensFor(512, 40, 2);
      const ref = await referenceForward(ck, tokens);
      for (const mode of ['prefill', 'decode'] as const) {
        const e = relErr(await forward({ checkpoint: ck, tokens, mode, kernels: 'native' }), ref);
        expect({ mode, ok: e < REL_BUDGET, e }).toMatchObject({ mode, ok: true });
      }
    } finally {
      await ck.close();
    }
  });
});

describe('bf16 precision on the native kernels', () => {
  it.skipIf(!HAVE_NATIVE)(`stays within ${BF16_NATIVE_VS_EMULATION_REL} of the TypeScript bf16 emulation; emulate mode follows the rounding points`, async () => {
    const ck = await build({ ...ODD, num_experts_per_tok: 5 }, 7, ODD_BF16_STD);
    try {
      const tokens = tokensFor(203, 40, 8);
      const emul = await forward({ checkpoint: ck, tokens, precision: 'bf16', lmHead: 'bf16', kernels: 'ts' });
      const fp32 = await forward({ checkpoint: ck, tokens, kernels: 'ts' });
      for (const mode of ['prefill', 'decode'] as const) {
        const nat = await forward({ checkpoint: ck, tokens, mode, precision: 'bf16', lmHead: 'bf16', kernels: 'native' });
        const e = relErr(nat, emul);
        const vsExact = relErr(nat, fp32) / relErr(emul, fp32);
        expect({ mode, ok: e < BF16_NATIVE_VS_EMULATION_REL, e, close: vsExact < BF16_NATIVE_VS_EMULATION_ERROR_FACTOR, vsExact }).toMatchObject({ mode, ok: true, close: true });
        // power: the native bf16 path really rounds (it is not the fp32 result)
        expect(relErr(nat, fp32)).toBeGreaterThan(1e-3);
      }
      // with the emulated lightning core, block form and recurrence disagree as in the official code
      const s = createSession({ checkpoint: ck, precision: 'bf16', kernels: 'native', bf16Lightning: 'emulate' });
      const pre = await s.prefill(tokens);
      const t = createSession({ checkpoint: ck, precision: 'bf16', kernels: 'native', bf16Lightning: 'emulate' });
      const dec = new Float32Array(pre.length);
      for (let i = 0; i < tokens.length; i++) dec.set(await t.decodeStep(tokens[i]!), i * 203);
      expect(relErr(dec, pre)).toBeGreaterThan(0);
    } finally {
      await ck.close();
    }
  });
});

describe('m1kit forward --kernels', () => {
  it('reports the kernels used; --kernels native without the addon exits 5 with E_NATIVE_UNAVAILABLE', async () => {
    const dir = await tmpDir();
    const r = await m1kit(['forward', 'fixtures/tiny', '--tokens', '1,2,3', '--kernels', 'ts', '--out', join(dir, 'a.safetensors'), '--json']);
    expect(r.code).toBe(0);
    expect(jsonDoc(r.stdout).result.kernels).toBe('ts');
    const off = await m1kit(['forward', 'fixtures/tiny', '--tokens', '1,2,3', '--kernels', 'native', '--out', join(dir, 'b.safetensors'), '--json'], { env: { M1KIT_NO_NATIVE: '1' } });
    expect(off.code).toBe(5);
    expect(jsonDoc(off.stdout).error.code).toBe('E_NATIVE_UNAVAILABLE');
    const auto = await m1kit(['forward', 'fixtures/tiny', '--tokens', '1,2,3', '--out', join(dir, 'c.safetensors'), '--json'], { env: { M1KIT_NO_NATIVE: '1' } });
    expect(jsonDoc(auto.stdout).result.kernels).toBe('ts');
    expect((await m1kit(['forward', 'fixtures/tiny', '--tokens', '1', '--kernels', 'gpu', '--out', join(dir, 'd.safetensors')])).code).toBe(2);
  });
});
