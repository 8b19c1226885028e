/**
 * Recognise the quantized tensors of a checkpoint written in one of the layouts of formats.ts, and
 * decode row bands of them back to fp32 with the dequantizers of core/ops (native or the TS reference,
 * bit-identical; DeepSeek `weight_dequant` semantics for fp8-block: fp32(decode(code) · scale_inv)).
 */
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { CanonicalTensor } from '../convert/jobs.js';
import { view2d } from '../convert/names.js';
import { InputError } from '../errors.js';
import { dequantizeFp8Blocks, dequantizeInt4, dequantizeInt8 } from '../ops/quant.js';
import { bf16ToF32 } from '../dtype/convert.js';
import { SCHEMES, type SchemeName } from './formats.js';

export interface QuantSource {
  scheme: SchemeName;
  group: number;
  ckpt: Checkpoint;
  codes: string;
  scale: string;
  /** Every stored tensor besides the codes (scale, shape). */
  extra: string[];
  rows: number;
  cols: number;
}

const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

export function schemeOf(cfg: Record<string, unknown>, where: string): { scheme: SchemeName; group: number } {
  if (cfg.quant_method === 'fp8') {
    const b = cfg.weight_block_size;
    if (!Array.isArray(b) || b.length !== 2 || b[0] !== b[1] || !Number.isInteger(b[0])) {
      throw new InputError('E_QUANT_CONFIG', `${where}: quantization_config.weight_block_size must be [n, n], got ${JSON.stringify(b)}`);
    }
    return { scheme: 'fp8-block', group: b[0] as number };
  }
  if (cfg.quant_method === 'compressed-tensors') {
    const groups = Object.values(rec(cfg.config_groups)).map((g) => rec(rec(g).weights));
    const w = groups[0] ?? {};
    if (cfg.format === 'int-quantized' && w.num_bits === 8 && w.strategy === 'channel') return { scheme: 'int8-channel', group: 0 };
    if (cfg.format === 'pack-quantized' && w.num_bits === 4 && w.strategy === 'group' && Number.isInteger(w.group_size)) return { scheme: 'w4a16', group: w.group_size as number };
  }
  throw new InputError('E_QUANT_CONFIG', `${where}: quantization_config ${JSON.stringify(cfg).slice(0, 160)} is not a scheme m1kit reads (fp8 block; compressed-tensors int8 channel or int4 group)`);
}

/** The quantized storage of canonical tensor `t`, or undefined when it is stored unquantized. */
export function quantSourceOf(ck: Checkpoint, quantCfg: unknown, t: CanonicalTensor, dir: string): QuantSource | undefined {
  const { scheme, group } = schemeOf(rec(quantCfg), `${dir}/config.json`);
  const s = SCHEMES[scheme];
  const m = t.info.module;
  const names = s.outputs.map((o) => `${m}.${o.suffix}`);
  if (!ck.has(names[0]!) || (names[0] === t.name && !ck.has(names[1]!))) return undefined;
  const [R, C] = view2d(t.shape);
  s.outputs.forEach((o, i) => {
    const loc = ck.tensors.get(names[i]!);
    const want = o.shape(R, C, group);
    if (!loc) throw new InputError('E_QUANT_LAYOUT', `${dir}: "${names[i]}" is missing (needed to dequantize "${t.name}")`);
    if (loc.info.dtype !== o.dtype || JSON.stringify(loc.info.shape) !== JSON.stringify(want)) {
      throw new InputError('E_QUANT_LAYOUT', `${dir}: "${names[i]}" is ${loc.info.dtype} ${JSON.stringify(loc.info.shape)}, expected ${o.dtype} ${JSON.stringify(want)}`);
    }
  });
  return { scheme, group, ckpt: ck, codes: names[0]!, scale: names[1]!, extra: names.slice(1), rows: R, cols: C };
}

const aligned = (b: Buffer): ArrayBuffer => {
  const u = new Uint8Array(b.length);
  u.set(b);
  return u.buffer;
};

async function readRows(ck: Checkpoint, name: string, row0: number, nRows: number, rowBytes: number): Promise<Buffer> {
  return ck.read(name, row0 * rowBytes, nRows * rowBytes);
}

/** Rows [r0, r1) of a quantized tensor, dequantized to fp32 [r1 − r0, cols]. */
export async function dequantizeRows(q: QuantSource, r0: number, r1: number): Promise<Float32Array> {
  const { rows: R, cols: C, group: g } = q;
  const n = r1 - r0;
  if (r0 < 0 || r1 > R || n < 0) throw new InputError('E_RANGE', `rows [${r0}, ${r1}) outside "${q.codes}" with ${R} rows`);
  if (q.scheme === 'fp8-block') {
    const out = new Float32Array(n * C);
    const nb = Math.ceil(C / g);
    for (let r = r0; r < r1; ) {
      const br = Math.floor(r / g);
      const end = Math.min(r1, (br + 1) * g);
      const codes = new Uint8Array(aligned(await readRows(q.ckpt, q.codes, r, end - r, C)));
      const scale = new Float32Array(aligned(await readRows(q.ckpt, q.scale, br, 1, nb * 4)));
      out.set(await dequantizeFp8Blocks(codes, scale, end - r, C, g), (r - r0) * C);
      r = end;
    }
    return out;
  }
  if (q.scheme === 'int8-channel') {
    const codes = new Int8Array(aligned(await readRows(q.ckpt, q.codes, r0, n, C)));
    const scale = bf16ToF32(new Uint16Array(aligned(await readRows(q.ckpt, q.scale, r0, n, 2))));
    return dequantizeInt8(codes, scale, n, C);
  }
  const words = Math.ceil(C / 8);
  const ng = Math.ceil(C / g);
  const packed = new Int32Array(aligned(await readRows(q.ckpt, q.codes, r0, n, words * 4)));
  const scale = bf16ToF32(new Uint16Array(aligned(await readRows(q.ckpt, q.scale, r0, n, ng * 2))));
  return dequantizeInt4(packed, scale, n, C, g);
}
