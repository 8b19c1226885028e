/**
 * `m1kit quantize --scheme nvfp4 | mxfp4 | mxfp8` end to end on the tiny fixture, checked against the
 * formats' published rules re-implemented in test/helpers/mx-spec.ts (not m1kit's code):
 * - the files hold exactly compressed-tensors' tensor names, dtypes and shapes, and its config schema;
 * - every stored code and scale equals what the rule gives for the source weights (bit for bit);
 * - decoding the files by the rule equals `m1kit dequantize --dtype f32` bit for bit;
 * - forward on the quantized checkpoint equals forward on its dequantized copy, and verify reads it.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonDoc, m1kit } from '../helpers/cli.js';
import { fileTmpDir } from '../helpers/tmp.js';
import { E2M1_CODES, E4M3_CODES, mxScaleCode, nearestCode, nibble, nvfp4ScaleCodeSpec, sameF32, sameMagnitude, specE2M1, specE4M3, specE8M0 } from '../helpers/mx-spec.js';
import { bf16Values, readDir, readSafetensors, type NaiveTensor } from '../helpers/naive-safetensors.js';

const TINY = 'fixtures/tiny';
const SCHEMES = ['nvfp4', 'mxfp4', 'mxfp8'] as const;
type Scheme = (typeof SCHEMES)[number];

/** What compressed-tensors stores per quantized Linear and declares in its config (docs/ecosystem.md §2.5). */
const SPEC: Record<Scheme, { format: string; numBits: number; strategy: string; group: number; scaleDtype: string; tensors: Record<string, string> }> = {
  nvfp4: { format: 'nvfp4-pack-quantized', numBits: 4, strategy: 'tensor_group', group: 16, scaleDtype: 'torch.float8_e4m3fn', tensors: { weight_packed: 'U8', weight_scale: 'F8_E4M3', weight_global_scale: 'F32' } },
  mxfp4: { format: 'mxfp4-pack-quantized', numBits: 4, strategy: 'group', group: 32, scaleDtype: 'torch.uint8', tensors: { weight_packed: 'U8', weight_scale: 'U8' } },
  mxfp8: { format: 'mxfp8-quantized', numBits: 8, strategy: 'group', group: 32, scaleDtype: 'torch.uint8', tensors: { weight: 'F8_E4M3', weight_scale: 'U8' } },
};

const dir = fileTmpDir('m1kit-mx-');
let orig: Map<string, NaiveTensor>;
const out: Record<string, { q: Map<string, NaiveTensor>; dq: Map<string, NaiveTensor>; cfg: any; path: string }> = {};

beforeAll(async () => {
  orig = readDir(TINY);
  for (const s of SCHEMES) {
    const q = join(dir, s), dq = join(dir, `${s}-dq`);
    const r = await m1kit(['-q', 'quantize', TINY, q, '--scheme', s]);
    expect(r.code, r.stderr).toBe(0);
    const d = await m1kit(['-q', 'dequantize', q, dq, '--dtype', 'f32']);
    expect(d.code, d.stderr).toBe(0);
    out[s] = { q: readDir(q), dq: readDir(dq), cfg: JSON.parse(readFileSync(join(q, 'config.json'), 'utf8')), path: q };
  }
}, 240_000);

/** Modules quantized with --targets all: 2-D weights other than embeddings, lm_head and the router gate. */
const quantizedModules = (): string[] =>
  [...orig.entries()].filter(([n, t]) => n.endsWith('.weight') && t.shape.length === 2 && !/embed_tokens|lm_head|block_sparse_moe\.gate\.|norm/.test(n)).map(([n]) => n.slice(0, -'.weight'.length));

const srcValues = (m: string): { w: number[]; rows: number; cols: number } => {
  const t = orig.get(`${m}.weight`)!;
  return { w: bf16Values(t.bytes), rows: t.shape[0]!, cols: t.shape[1]! };
};
const f32At = (b: Buffer, i: number) => b.readFloatLE(4 * i);

/** The modules sharing an NVFP4 global scale with `m` (itself included): softmax q/k/v, an expert's w1/w3. */
function fusedWith(m: string): string[] {
  const qkv = /^(.*\.self_attn\.)(q|k|v)_proj$/.exec(m);
  if (qkv) return ['q', 'k', 'v'].map((r) => `${qkv[1]}${r}_proj`);
  const w13 = /^(.*\.experts\.\d+\.)w(1|3)$/.exec(m);
  if (w13) return [`${w13[1]}w1`, `${w13[1]}w3`];
  return [m];
}

describe.each(SCHEMES)('%s', (scheme) => {
  const spec = SPEC[scheme];

  it('quantization_config is compressed-tensors\' weight-only schema for the format', () => {
    const qc = out[scheme]!.cfg.quantization_config;
    expect(qc.quant_method).toBe('compressed-tensors');
    expect(qc.format).toBe(spec.format);
    expect(qc.quantization_status).toBe('compressed');
    const groups = Object.values(qc.config_groups) as any[];
    expect(groups).toHaveLength(1);
    expect(groups[0].targets).toEqual(['Linear']);
    expect(groups[0].input_activations).toBeNull();
    expect(groups[0].weights).toMatchObject({ num_bits: spec.numBits, type: 'float', symmetric: true, strategy: spec.strategy, group_size: spec.group, dynamic: false, scale_dtype: spec.scaleDtype, zp_dtype: null });
    expect(Array.isArray(qc.ignore)).toBe(true);
  });

  it('every quantized Linear holds exactly the format\'s tensors, dtypes and shapes', () => {
    const q = out[scheme]!.q;
    const mods = quantizedModules();
    expect(mods.length).toBeGreaterThan(10);
    for (const m of mods) {
      const { rows, cols } = srcValues(m);
      const have = [...q.keys()].filter((n) => n.startsWith(`${m}.`)).map((n) => n.slice(m.length + 1)).sort();
      expect(have, m).toEqual(Object.keys(spec.tensors).sort());
      for (const [suffix, dtype] of Object.entries(spec.tensors)) {
        const t = q.get(`${m}.${suffix}`)!;
        expect(t.dtype, `${m}.${suffix}`).toBe(dtype);
        const shape = suffix === 'weight_global_scale' ? [1] : suffix === 'weight_scale' ? [rows, cols / spec.group] : suffix === 'weight_packed' ? [rows, cols / 2] : [rows, cols];
        expect(t.shape, `${m}.${suffix}`).toEqual(shape);
      }
    }
    // never quantized: embeddings, head, norms, router stay as in the source
    for (const n of ['model.embed_tokens.weight', 'lm_head.weight', 'model.norm.weight', 'model.layers.2.block_sparse_moe.gate.weight']) {
      expect(q.get(n)!.bytes.equals(orig.get(n)!.bytes), n).toBe(true);
    }
  });

  if (scheme === 'nvfp4')
    it('fused layers share one global scale: softmax q/k/v, each expert\'s w1/w3 (and w2 has its own)', () => {
      const q = out[scheme]!.q;
      const gs = (m: string) => q.get(`${m}.weight_global_scale`)!.bytes.readFloatLE(0);
      const mods = quantizedModules();
      const groups = mods.filter((m) => fusedWith(m).length > 1);
      expect(groups.some((m) => m.endsWith('q_proj'))).toBe(true);
      expect(groups.some((m) => m.endsWith('.w1'))).toBe(true);
      for (const m of groups) for (const p of fusedWith(m)) expect(gs(p), `${m} ~ ${p}`).toBe(gs(m));
      // the fixture's experts differ in amax, so sharing is visible: w1 and w2 of an expert disagree somewhere
      expect(mods.filter((m) => m.endsWith('.w1')).some((m) => gs(m) !== gs(m.replace(/w1$/, 'w2')))).toBe(true);
    });

  it('every stored scale and code is the one the published rule gives for the source weights', () => {
    const q = out[scheme]!.q;
    let elements = 0;
    const wrong: string[] = []; // collected, so one assertion covers every element
    for (const m of quantizedModules()) {
      const { w, rows, cols } = srcValues(m);
      const ng = cols / spec.group;
      const scale = q.get(`${m}.weight_scale`)!.bytes;
      let G = 1;
      if (scheme === 'nvfp4') {
        // one global scale per layer the engines fuse (softmax q/k/v → qkv_proj, an expert's w1/w3 → w13)
        const amax = fusedWith(m).reduce((a, n) => srcValues(n).w.reduce((b, v) => Math.max(b, Math.abs(v)), a), 0);
        G = q.get(`${m}.weight_global_scale`)!.bytes.readFloatLE(0);
        expect(G, m).toBe(Math.fround(2688 / amax));
      }
      const codes = q.get(`${m}.${scheme === 'mxfp8' ? 'weight' : 'weight_packed'}`)!.bytes;
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < ng; j++) {
          let amax = 0;
          for (let c = j * spec.group; c < (j + 1) * spec.group; c++) amax = Math.max(amax, Math.abs(w[r * cols + c]!));
          const sc = scale[r * ng + j]!;
          const want = scheme === 'nvfp4' ? nvfp4ScaleCodeSpec(amax, G) : mxScaleCode(amax, scheme === 'mxfp4' ? 2 : 8);
          if (sc !== want) wrong.push(`${m} row ${r} group ${j}: scale ${sc}, rule ${want}`);
          for (let c = j * spec.group; c < (j + 1) * spec.group; c++) {
            const v = w[r * cols + c]!;
            const x = scheme === 'nvfp4' ? Math.fround(v / Math.fround(specE4M3(sc) / G)) : v / specE8M0(sc);
            const neg = x < 0 || Object.is(x, -0);
            if (scheme === 'mxfp8') {
              const code = codes[r * cols + c]!;
              if (!sameMagnitude(code, nearestCode(x, specE4M3, E4M3_CODES(neg)), specE4M3) || (code & 0x80) !== (neg ? 0x80 : 0)) wrong.push(`${m}[${r},${c}]: code ${code} for ${x}`);
            } else {
              const code = nibble(codes, cols / 2, r, c);
              if (!sameMagnitude(code, nearestCode(x, specE2M1, E2M1_CODES(neg)), specE2M1) || (code & 8) !== (neg ? 8 : 0)) wrong.push(`${m}[${r},${c}]: code ${code} for ${x}`);
            }
            elements++;
          }
        }
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(elements).toBeGreaterThan(100_000);
  });

  it('decoding the files by the rule equals m1kit dequantize --dtype f32, bit for bit', () => {
    const { q, dq } = out[scheme]!;
    for (const m of quantizedModules()) {
      const { rows, cols } = srcValues(m);
      const d = dq.get(`${m}.weight`)!;
      expect(d.dtype).toBe('F32');
      const scale = q.get(`${m}.weight_scale`)!.bytes;
      const G = scheme === 'nvfp4' ? q.get(`${m}.weight_global_scale`)!.bytes.readFloatLE(0) : 1;
      const codes = q.get(`${m}.${scheme === 'mxfp8' ? 'weight' : 'weight_packed'}`)!.bytes;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const sc = scale[r * (cols / spec.group) + Math.floor(c / spec.group)]!;
          const want =
            scheme === 'nvfp4' ? Math.fround(specE2M1(nibble(codes, cols / 2, r, c)) * Math.fround(specE4M3(sc) / G))
            : scheme === 'mxfp4' ? Math.fround(specE2M1(nibble(codes, cols / 2, r, c)) * specE8M0(sc))
            : Math.fround(specE4M3(codes[r * cols + c]!) * specE8M0(sc));
          if (!sameF32(f32At(d.bytes, r * cols + c), want)) expect.fail(`${m}[${r},${c}]: dequantize ${f32At(d.bytes, r * cols + c)}, rule ${want}`);
        }
      }
    }
  });

  it('forward reads the quantized checkpoint: the same logits as its dequantized copy; verify scores it', async () => {
    const a = join(dir, `${scheme}-logits.safetensors`), b = join(dir, `${scheme}-dq-logits.safetensors`);
    expect((await m1kit(['-q', 'forward', out[scheme]!.path, '--tokens', '1,7,42,99,3', '--out', a])).code).toBe(0);
    expect((await m1kit(['-q', 'forward', join(dir, `${scheme}-dq`), '--tokens', '1,7,42,99,3', '--out', b])).code).toBe(0);
    const la = [...readSafetensors(a).values()][0]!, lb = [...readSafetensors(b).values()][0]!;
    expect(la.bytes.length).toBeGreaterThan(0);
    expect(la.bytes.equals(lb.bytes)).toBe(true);
    const ids = join(dir, 'ids.json');
    await writeFile(ids, JSON.stringify(Array.from({ length: 80 }, (_, i) => (i * 37 + 5) % 512)));
    const v = await m1kit(['--json', 'verify', out[scheme]!.path, '--against', TINY, '--tokens', ids, '--ctx', '32']);
    expect(v.code, v.stderr).toBe(0);
    const res = jsonDoc(v.stdout).result;
    expect(res.kld.mean).toBeGreaterThan(0);
    expect(Number.isFinite(res.pplRatio.value)).toBe(true);
  });
});
