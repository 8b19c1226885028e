/**
 * The quantized tensors of a checkpoint read as a convert source: the format its `quantization_config`
 * declares (the registry, formats/), checked against the canonical weight's shape, decoded in row bands
 * by the one decoder of formats/decode.ts (the runtime's too).
 */
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { CanonicalTensor } from '../pipeline/jobs.js';
import { view2d } from '../pipeline/geometry.js';
import { InputError } from '../errors.js';
import { decodeStoredRows } from '../formats/decode.js';
import { requireDeclaredFormat, type StoredLayout, type TensorStore } from '../formats/index.js';

export interface QuantSource {
  /** Registry id of the format. */
  scheme: string;
  group: number;
  ckpt: Checkpoint;
  codes: string;
  /** Every stored tensor besides the codes (scale, shape). */
  extra: string[];
  rows: number;
  cols: number;
  layout: StoredLayout;
  store: TensorStore;
}

/** A checkpoint seen as the decoder's tensor store. */
export const checkpointStore = (ck: Checkpoint): TensorStore => ({
  has: (n) => ck.has(n),
  info: (n) => ck.info(n).info,
  read: (n, off, len) => ck.read(n, off, len),
});

/** The quantized storage of canonical tensor `t`, or undefined when it is stored unquantized. */
export async function quantSourceOf(ck: Checkpoint, quantCfg: unknown, t: CanonicalTensor, dir: string): Promise<QuantSource | undefined> {
  const where = `${dir}/config.json`;
  const qc = typeof quantCfg === 'object' && quantCfg !== null && !Array.isArray(quantCfg) ? (quantCfg as Record<string, unknown>) : {};
  const { format, group } = requireDeclaredFormat(qc, where);
  const store = checkpointStore(ck);
  const lay = await format.detect(store, t.info.module, { declared: group, qc });
  if (!lay) return undefined;
  const [R, C] = view2d(t.shape);
  if (lay.rows !== R || lay.cols !== C) throw new InputError('E_QUANT_LAYOUT', `${dir}: "${lay.tensors[0]}" holds a ${lay.rows}×${lay.cols} weight, expected ${R}×${C} for "${t.name}"`);
  return { scheme: format.id, group, ckpt: ck, codes: lay.tensors[0]!, extra: lay.tensors.slice(1), rows: R, cols: C, layout: lay, store };
}

/** Rows [r0, r1) of a quantized tensor, dequantized to fp32 [r1 − r0, cols]. */
export function dequantizeRows(q: QuantSource, r0: number, r1: number): Promise<Float32Array> {
  return decodeStoredRows(q.store, q.layout, r0, r1 - r0);
}
