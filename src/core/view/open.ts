/**
 * One tensor view of a checkpoint directory for every command that reads weights (forward, verify,
 * generate, the library): an HF checkpoint, an m1kit layout (`m1kit-layout.json`: `--tp/--ep` rank
 * directories and/or stacked experts) or a checkpoint quantized by m1kit. Whatever the layout, the view
 * answers for the canonical (HF per-expert) tensor names:
 * - an HF or quantized checkpoint is read as stored (the runtime decodes quantized weights from their
 *   codes and scales, model/dequant.ts);
 * - a layout is read through the pieces its job rules put on each rank (convert/source.ts inverts them),
 *   each read assembling the rows asked for from those pieces, byte for byte the tensor the layout was
 *   made from.
 * Opening reads JSON and safetensors headers only and refuses bad input (one line naming the file).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { M1Config } from '../checkpoint/config.js';
import { openCheckpoint } from '../checkpoint/validate.js';
import { dtypeBytes } from '../dtype/dtypes.js';
import { InputError } from '../errors.js';
import { view2d } from '../pipeline/geometry.js';
import { readRect } from './read-rect.js';
import { LAYOUT_FILE, openSource, type LayoutMeta, type Source, type SourceTensor } from './source.js';
import type { TensorMeta, WeightSource } from '../model/source.js';

export interface TensorView extends WeightSource {
  readonly dir: string;
  readonly config: M1Config;
  /** 'hf' (stored as the HF names), 'quantized' (stored as codes and scales), 'layout' (m1kit ranks / stacked experts). */
  readonly kind: 'hf' | 'layout' | 'quantized';
  /** The layout the directory holds, for kind 'layout'. */
  readonly layout?: LayoutMeta;
  close(): Promise<void>;
}

export interface ViewOptions {
  signal?: AbortSignal | undefined;
}

const hasLayoutFile = async (dir: string): Promise<boolean> => Boolean(await stat(join(dir, LAYOUT_FILE)).catch(() => undefined));

/** A checkpoint read as stored. */
function storedView(ck: Checkpoint, kind: 'hf' | 'quantized', close: () => Promise<void>): TensorView {
  return {
    dir: ck.dir,
    config: ck.config,
    kind,
    has: (n) => ck.has(n),
    info: (n) => ck.info(n).info,
    read: (n, off, len) => ck.read(n, off, len),
    close,
  };
}

/**
 * Bytes [off, off + len) of canonical tensor `t` (row-major, its dtype), assembled from the layout's
 * pieces: the rows covering the range are read, then the range is cut out of them.
 */
async function readCanonical(t: SourceTensor, off: number, len: number | undefined): Promise<Uint8Array> {
  const [R, C] = view2d(t.shape);
  const rowBytes = C * dtypeBytes(t.dtype);
  const total = R * rowBytes;
  const n = len ?? total - off;
  if (off < 0 || n < 0 || off + n > total) throw new InputError('E_RANGE', `bytes [${off}, ${off + n}) outside tensor "${t.name}" of ${total} bytes`);
  if (n === 0) return new Uint8Array(0);
  const r0 = Math.floor(off / rowBytes);
  const r1 = Math.ceil((off + n) / rowBytes);
  const { data } = await readRect(t, { r0, r1, c0: 0, c1: C });
  const skip = off - r0 * rowBytes;
  return skip === 0 && data.length === n ? data : data.subarray(skip, skip + n);
}

/** The canonical tensors of a layout, read through their pieces. */
function layoutView(src: Source): TensorView {
  const tensor = (n: string): SourceTensor => {
    const t = src.byName.get(n);
    if (!t) throw new InputError('E_TENSOR_MISSING', `${src.dir}: checkpoint has no tensor "${n}"`);
    return t;
  };
  return {
    dir: src.dir,
    config: src.config,
    kind: 'layout',
    ...(src.layout ? { layout: src.layout } : {}),
    has: (n) => src.byName.has(n),
    info: (n): TensorMeta => {
      const t = tensor(n);
      return { dtype: t.dtype, shape: t.shape };
    },
    read: (n, off = 0, len) => readCanonical(tensor(n), off, len),
    close: () => src.close(),
  };
}

/**
 * Open a checkpoint directory as one tensor view (every check of openCheckpoint applies; a layout is
 * also checked to cover every canonical tensor exactly).
 * @example const v = await openTensorView('out-tp2/'); const logits = await forward({ checkpoint: v, tokens: [1, 2, 3] }); await v.close();
 */
export async function openTensorView(dir: string, opts: ViewOptions = {}): Promise<TensorView> {
  if (await hasLayoutFile(dir)) {
    const src = await openSource(dir, opts.signal);
    if (src.kind === 'layout') return layoutView(src);
    return storedView(src.checkpoints[0]!, src.kind, () => src.close());
  }
  const ck = await openCheckpoint(dir, opts.signal ? { signal: opts.signal } : {});
  const quantized = ck.configRaw.quantization_config !== undefined && ck.configRaw.quantization_config !== null;
  return storedView(ck, quantized ? 'quantized' : 'hf', () => ck.close());
}
