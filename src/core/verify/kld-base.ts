/**
 * llama.cpp's `--kl-divergence-base` file (docs/llama-files.md §2), written from m1kit's reference logits
 * so that stock `llama-perplexity --kl-divergence` can score any GGUF against the unquantized model.
 *
 * Layout (little-endian): the 8 bytes `_logits_`; int32 n_ctx; int32 n_vocab; int32 n_chunk; the
 * n_chunk·n_ctx int32 token ids of the chunks as cut from the corpus (before any BOS substitution); then
 * per chunk, for each of its n_ctx − 1 − ⌊n_ctx/2⌋ scored positions in order, one row of
 * nv = 2·⌈n_vocab/2⌉ + 4 uint16: float32 scale and float32 min_log_prob in the first four, then one
 * uint16 per vocabulary entry q = round((z − z_min)/scale), padded with a zero to an even count.
 * A row decodes as ln p(v) = scale·q(v) + min_log_prob, where z_min = max(min z, max z − 16),
 * scale = (max z − z_min)/65535 and min_log_prob = z_min − max z − ln Σ exp(z − max z); entries at or
 * below z_min store 0. The arithmetic is float32 in llama.cpp's order, so the bytes are the ones it
 * writes (exp here is correctly rounded; a C library's expf can differ in a last bit, which can move
 * min_log_prob by one float32 ulp).
 */
import { InputError } from '../errors.js';
import { AtomicFile } from '../fs/atomic-file.js';

export const KLD_BASE_MAGIC = '_logits_';
/** Logits more than this far below the row's maximum are stored as the row's floor (llama.cpp's cut). */
export const KLD_BASE_LOGIT_RANGE = 16;

/** uint16 entries per stored row for a vocabulary of `V`. */
export const kldRowEntries = (V: number): number => 2 * Math.floor((V + 1) / 2) + 4;

const f = Math.fround;
/** llama.cpp's nearest_int: round-to-nearest-even of a float32 by adding 1.5·2^23 in float32. */
const nearestInt = (x: number): number => f(x + 12582912) - 12582912;

/** Encode one logit row [V] at `from` into `out` (kldRowEntries(V) uint16, zero padding included). */
export function encodeLogProbRow(z: ArrayLike<number>, from: number, V: number, out: Uint16Array): void {
  let max = f(z[from]!);
  let min = max;
  for (let i = 1; i < V; i++) {
    const v = f(z[from + i]!);
    if (v > max) max = v;
    if (v < min) min = v;
  }
  min = Math.max(min, f(max - KLD_BASE_LOGIT_RANGE));
  let sumExp = 0; // double, of float32 exponentials, as llama.cpp sums them
  for (let i = 0; i < V; i++) sumExp += f(Math.exp(f(f(z[from + i]!) - max)));
  const logSumExp = f(Math.log(sumExp));
  const minLogProb = f(f(min - max) - logSumExp);
  const scale = f(f(max - min) / 65535);
  const head = new DataView(out.buffer, out.byteOffset, 8);
  head.setFloat32(0, scale, true);
  head.setFloat32(4, minLogProb, true);
  out.fill(0, 4);
  if (scale === 0) return;
  const inv = f(1 / scale);
  for (let i = 0; i < V; i++) {
    const v = f(z[from + i]!);
    if (v > min) out[4 + i] = nearestInt(f(inv * f(v - min))) & 0xffff;
  }
}

/**
 * Streams a --kl-divergence-base file: the header and tokens on create, then the scored rows in chunk
 * order through `addRows`; `finish` checks the row count, fsyncs and renames `<path>.incomplete`.
 */
export class KldBaseWriter {
  private rows = 0;
  private position: number;

  private constructor(private readonly file: AtomicFile, readonly vocab: number, readonly expectedRows: number, start: number) {
    this.position = start;
  }

  get path(): string {
    return this.file.path;
  }

  get tmpPath(): string {
    return this.file.tmpPath;
  }

  /** Create `<path>.incomplete` with the header and the chunks' tokens. */
  static async create(path: string, ctx: number, vocab: number, chunks: readonly (readonly number[])[]): Promise<KldBaseWriter> {
    if (chunks.some((c) => c.length !== ctx)) throw new InputError('E_CORPUS', `${path}: every chunk must hold ${ctx} tokens`);
    const head = Buffer.alloc(8 + 12 + 4 * ctx * chunks.length);
    head.write(KLD_BASE_MAGIC, 0, 'latin1');
    head.writeInt32LE(ctx, 8);
    head.writeInt32LE(vocab, 12);
    head.writeInt32LE(chunks.length, 16);
    let o = 20;
    for (const c of chunks) for (const t of c) o = head.writeInt32LE(t, o);
    // the rows are appended: the file grows as they are written
    const file = await AtomicFile.create(path, { header: head, size: head.length, grow: async () => {} });
    return new KldBaseWriter(file, vocab, chunks.length * (ctx - 1 - Math.floor(ctx / 2)), head.length);
  }

  /** Append the encoded rows of `n` logit rows [n, vocab] (the next scored positions, in order). */
  async addRows(logits: Float32Array, n: number): Promise<void> {
    const nv = kldRowEntries(this.vocab);
    const buf = new Uint16Array(n * nv);
    for (let r = 0; r < n; r++) encodeLogProbRow(logits, r * this.vocab, this.vocab, buf.subarray(r * nv, (r + 1) * nv));
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    await this.file.write(bytes, this.position);
    this.position += bytes.length;
    this.rows += n;
  }

  /** Bytes of the finished file. */
  get bytes(): number {
    return this.position;
  }

  async finish(): Promise<void> {
    const short = this.rows !== this.expectedRows ? new InputError('E_KLD_BASE_INCOMPLETE', `${this.path}: ${this.rows} of ${this.expectedRows} scored rows were written`) : undefined;
    await this.file.finish(short);
  }

  /** Close and delete the temporary file (after an error or an abort). */
  abort(): Promise<void> {
    return this.file.abort();
  }
}
