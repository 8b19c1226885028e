/**
 * The one set of checkpoint checks every command goes through (inspect, convert, convert --to gguf,
 * quantize, dequantize, forward, verify): the architecture is MiniMax-M1's, every tensor the config
 * implies is present with its exact shape (rank included) and an accepted dtype, nothing else is there
 * (an `lm_head` beside `tie_word_embeddings: true` included), and each quantized weight's codes and scales
 * have exactly the shapes its declared scheme gives. `inspect` lists the problems; the others refuse.
 */
import { join } from 'node:path';
import type { DType } from '../dtype/dtypes.js';
import { FAMILIES, familyOf } from '../arch/registry.js';
import { InputError } from '../errors.js';
import { requireDeclaredFormat } from '../formats/index.js';
import type { TensorSpec } from '../safetensors/writer.js';
import { Checkpoint, type OpenOptions } from './checkpoint.js';
import type { M1Config } from './config.js';
import { compareTensors, expectedTensors, type Problem } from './layout.js';

/** Weight dtypes accepted besides BF16 (a converted fp16 or fp32 checkpoint). */
const ALLOWED_DTYPES: DType[] = ['F16', 'F32'];
const FLOAT_DTYPES = new Set<DType>(['BF16', 'F16', 'F32']);

export interface CheckOptions {
  /** Expected tensors (default: what config.json implies; inspect passes rank-local shapes for a rank directory). */
  expected?: TensorSpec[];
}

/** A problem when `architectures` names no model family m1kit knows (arch/registry.ts), else undefined. */
export function architectureProblem(c: M1Config): Problem | undefined {
  if (familyOf(c.architectures)) return undefined;
  const known = FAMILIES.flatMap((f) => f.architectures);
  return { kind: 'architecture', tensor: 'config.json', expected: known.join(' | '), found: JSON.stringify(c.architectures), message: `config.json: architectures ${JSON.stringify(c.architectures)} is not a MiniMax-M1 model (expected one of ${known.join(', ')})` };
}

/** Problems of the quantized weights of `ck` against the scheme its quantization_config declares. */
function quantizationProblems(ck: Checkpoint, quantCfg: unknown, expected: TensorSpec[]): Problem[] {
  let scheme;
  try {
    scheme = requireDeclaredFormat(typeof quantCfg === 'object' && quantCfg !== null ? (quantCfg as Record<string, unknown>) : {}, join(ck.dir, 'config.json'));
  } catch {
    return []; // a scheme m1kit does not write: the decoder's own tiling checks apply (formats/decode.ts)
  }
  const s = scheme.format;
  const problems: Problem[] = [];
  for (const t of expected) {
    if (t.shape.length !== 2 || !t.name.endsWith('.weight')) continue;
    const m = t.name.slice(0, -'.weight'.length);
    const names = s.outputs.map((o) => `${m}.${o.suffix}`);
    const codes = ck.tensors.get(names[0]!);
    const quantized = codes !== undefined && (names[0] !== t.name || !FLOAT_DTYPES.has(codes.info.dtype) || names.slice(1).some((n) => ck.has(n)));
    if (!quantized) continue;
    const [R, C] = t.shape as [number, number];
    s.outputs.forEach((o, i) => {
      const name = names[i]!;
      const loc = ck.tensors.get(name);
      const want = o.shape(R, C, scheme.group);
      if (!loc) {
        problems.push({ kind: 'quantization', tensor: name, expected: `${o.dtype} ${JSON.stringify(want)}`, message: `missing tensor "${name}" (${o.dtype} ${JSON.stringify(want)}, needed to decode "${t.name}" as ${s.id})` });
      } else if (loc.info.dtype !== o.dtype || JSON.stringify(loc.info.shape) !== JSON.stringify(want)) {
        problems.push({ kind: 'quantization', tensor: name, expected: `${o.dtype} ${JSON.stringify(want)}`, found: `${loc.info.dtype} ${JSON.stringify(loc.info.shape)}`, message: `tensor "${name}" is ${loc.info.dtype} ${JSON.stringify(loc.info.shape)}, expected ${o.dtype} ${JSON.stringify(want)} for ${s.id} of "${t.name}" ${JSON.stringify(t.shape)}` });
      }
    });
  }
  return problems;
}

/** Every problem of an opened checkpoint (empty when it is a complete, consistent MiniMax-M1 checkpoint). */
export function checkpointProblems(ck: Checkpoint, opts: CheckOptions = {}): Problem[] {
  const problems: Problem[] = [];
  const arch = architectureProblem(ck.config);
  if (arch) problems.push(arch);
  const quantCfg = ck.configRaw.quantization_config;
  const quantized = quantCfg !== undefined && quantCfg !== null;
  const expected = opts.expected ?? expectedTensors(ck.config);
  const actual = new Map([...ck.tensors].map(([n, l]) => [n, { dtype: l.info.dtype, shape: l.info.shape }]));
  problems.push(...compareTensors(expected, actual, { allowDtypes: ALLOWED_DTYPES, quantized }));
  if (quantized) problems.push(...quantizationProblems(ck, quantCfg, expected));
  return problems;
}

const CODE_OF: Record<Problem['kind'], string> = {
  architecture: 'E_NOT_M1',
  quantization: 'E_QUANT_LAYOUT',
  missing: 'E_CHECKPOINT_INCOMPLETE',
  unexpected: 'E_CHECKPOINT_INCOMPLETE',
  shape: 'E_CHECKPOINT_INCOMPLETE',
  dtype: 'E_CHECKPOINT_INCOMPLETE',
};

/** Refuse a checkpoint with any problem: one line naming the file (or tensor) and what was expected. */
export function assertCheckpoint(ck: Checkpoint, opts: CheckOptions = {}): void {
  const problems = checkpointProblems(ck, opts);
  const p = problems[0];
  if (!p) return;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  const file = ck.tensors.get(p.tensor)?.file;
  const where = p.kind === 'architecture' ? ck.dir : file ? join(ck.dir, file) : ck.dir;
  const message = p.kind === 'architecture' ? `${join(ck.dir, 'config.json')}${p.message.slice('config.json'.length)}` : `${where}: ${p.message}`;
  throw new InputError(CODE_OF[p.kind], message + more);
}

/**
 * Open a checkpoint and run every check on it (the entry point of each command that reads one).
 * @example const ck = await openCheckpoint('fixtures/tiny', { signal });
 */
export async function openCheckpoint(dir: string, opts: OpenOptions & CheckOptions = {}): Promise<Checkpoint> {
  const ck = await Checkpoint.open(dir, opts);
  try {
    assertCheckpoint(ck, opts);
  } catch (e) {
    await ck.close();
    throw e;
  }
  return ck;
}
