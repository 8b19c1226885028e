/**
 * Headers-only summary of a checkpoint: architecture, layers by type, parameter counts, bytes by dtype,
 * shard sizes, completeness problems and a memory plan. Reads no tensor data.
 */
import { Checkpoint } from '../checkpoint/checkpoint.js';
import { lightningLayers, softmaxLayers } from '../checkpoint/config.js';
import type { Problem } from '../checkpoint/layout.js';
import { checkpointProblems } from '../checkpoint/validate.js';
import { countParams, type ParamCounts } from '../checkpoint/params.js';
import type { DType } from '../dtype/dtypes.js';
import { memoryPlan, type MemoryPlan } from './memory-plan.js';
import { layoutDoc, rankExpectation, rankTensors, type LayoutDoc } from './rank-layout.js';
import type { TensorSpec } from '../safetensors/writer.js';
import { join } from 'node:path';

export interface InspectParams {
  dir: string;
  tp?: number;
  ep?: number;
  ctx?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface InspectReport {
  dir: string;
  architecture: string[];
  config: {
    layers: number;
    hiddenSize: number;
    heads: number;
    kvHeads: number;
    headDim: number;
    rotaryDim: number;
    experts: number;
    expertsPerToken: number;
    intermediateSize: number;
    vocabSize: number;
  };
  layers: { lightning: number[]; softmax: number[] };
  params: ParamCounts & { actual: number };
  tensors: number;
  bytesByDtype: Partial<Record<DType, number>>;
  dataBytes: number;
  indexTotalSize: number | null;
  shards: { count: number; missing: string[]; totalBytes: number; minBytes: number; maxBytes: number; files: { name: string; bytes: number; tensors: number }[] };
  quantization: unknown;
  /** Set when the directory is one rank of an m1kit TP/EP layout (completeness is then checked against rank-local shapes). */
  rank: { rank: number; world: number; tp: number; ep: number; experts: string } | null;
  /** Set when the directory is the root of an m1kit layout: every rank is inspected against its rank-local shapes. */
  layout?: { tp: number; ep: number; world: number; experts: string; ranks: string[] };
  complete: boolean;
  problems: Problem[];
  memoryPlan: MemoryPlan;
}

/** One checkpoint directory of the report: the root, or one rank of a layout (`name` its directory). */
interface Part {
  name: string;
  ckpt: Checkpoint;
  /** Tensors it must hold (default: what config.json implies). */
  expected?: TensorSpec[] | undefined;
}

const within = (part: Part, s: string): string => (part.name ? `${part.name}/${s}` : s);

/** The checkpoints of `dir`: itself, or the rank directories of the layout it is the root of. */
async function openParts(p: InspectParams, doc: LayoutDoc | undefined): Promise<Part[]> {
  const open = (d: string) => Checkpoint.open(d, { allowMissingShards: true, ...(p.signal ? { signal: p.signal } : {}), ...(p.onProgress ? { onProgress: p.onProgress } : {}) });
  if (!doc || doc.ranks.length === 1) {
    const ckpt = await open(p.dir);
    return [{ name: '', ckpt, expected: doc ? rankTensors(ckpt.config, doc, 0) : undefined }];
  }
  const parts: Part[] = [];
  try {
    for (const [r, name] of doc.ranks.entries()) {
      const ckpt = await open(join(p.dir, name));
      parts.push({ name, ckpt, expected: rankTensors(ckpt.config, doc, r) });
    }
  } catch (e) {
    await Promise.all(parts.map((x) => x.ckpt.close()));
    throw e;
  }
  return parts;
}

/** Problems of one part: completeness against its expectation, missing shards, the index's total_size. */
function partProblems(part: Part): Problem[] {
  const { ckpt } = part;
  const problems = checkpointProblems(ckpt, part.expected ? { expected: part.expected } : {});
  for (const s of ckpt.missingShards) problems.unshift({ kind: 'missing', tensor: s, message: `shard file "${s}" listed in the index is missing` });
  const total = typeof ckpt.indexMetadata.total_size === 'number' ? ckpt.indexMetadata.total_size : null;
  if (ckpt.missingShards.length === 0 && total !== null && total !== ckpt.dataBytes) {
    problems.push({ kind: 'shape', tensor: 'model.safetensors.index.json', expected: String(ckpt.dataBytes), found: String(total), message: `index metadata.total_size is ${total} but the shards hold ${ckpt.dataBytes} bytes of tensor data` });
  }
  if (!part.name) return problems;
  return problems.map((x) => ({ ...x, tensor: within(part, x.tensor), message: `${part.name}: ${x.message}` }));
}

/**
 * A checkpoint directory, one rank of an m1kit layout (checked against its rank-local shapes), or the
 * root of a layout (every rank, each against its own shapes, summed up).
 * @example const r = await inspectCheckpoint({ dir: 'fixtures/tiny', tp: 8, ctx: 1_000_000 });
 */
export async function inspectCheckpoint(params: InspectParams | string): Promise<InspectReport> {
  const p: InspectParams = typeof params === 'string' ? { dir: params } : params;
  const found = await layoutDoc(p.dir);
  // a one-rank per-expert layout file only records an HF file assignment: the directory is a plain checkpoint
  const doc = found && (found.ranks.length > 1 || found.experts !== 'per-expert') ? found : undefined;
  const parts = await openParts(p, doc);
  try {
    const c = parts[0]!.ckpt.config;
    const bytesByDtype: Partial<Record<DType, number>> = {};
    const files: { name: string; bytes: number; tensors: number }[] = [];
    const missing: string[] = [];
    let actualParams = 0;
    let tensors = 0;
    let dataBytes = 0;
    let total: number | null = 0;
    for (const part of parts) {
      const { ckpt } = part;
      const perFile = new Map<string, number>();
      for (const { file, info } of ckpt.tensors.values()) {
        bytesByDtype[info.dtype] = (bytesByDtype[info.dtype] ?? 0) + (info.end - info.begin);
        perFile.set(file, (perFile.get(file) ?? 0) + 1);
        actualParams += info.shape.reduce((a, b) => a * b, 1);
      }
      tensors += ckpt.tensors.size;
      dataBytes += ckpt.dataBytes;
      const t = typeof ckpt.indexMetadata.total_size === 'number' ? ckpt.indexMetadata.total_size : null;
      total = total === null || t === null ? null : total + t;
      missing.push(...ckpt.missingShards.map((f) => within(part, f)));
      files.push(...ckpt.files.map((f) => ({ name: within(part, f), bytes: ckpt.fileSizes.get(f) ?? 0, tensors: perFile.get(f) ?? 0 })));
    }
    const first = parts[0]!.ckpt;
    const quantization = (first.configRaw.quantization_config as unknown) ?? null;
    const rank = doc ? undefined : await rankExpectation(p.dir, c);
    if (rank) parts[0]!.expected = rank.expected;
    const problems = parts.flatMap(partProblems);
    const sizes = files.map((f) => f.bytes);
    const report: InspectReport = {
      dir: p.dir,
      architecture: c.architectures,
      config: {
        layers: c.numLayers,
        hiddenSize: c.hiddenSize,
        heads: c.numHeads,
        kvHeads: c.numKvHeads,
        headDim: c.headDim,
        rotaryDim: c.rotaryDim,
        experts: c.numExperts,
        expertsPerToken: c.expertsPerTok,
        intermediateSize: c.intermediateSize,
        vocabSize: c.vocabSize,
      },
      layers: { lightning: lightningLayers(c), softmax: softmaxLayers(c) },
      params: { ...countParams(c), actual: actualParams },
      tensors,
      bytesByDtype,
      dataBytes,
      indexTotalSize: total,
      shards: {
        count: files.length + missing.length,
        missing,
        totalBytes: sizes.reduce((a, b) => a + b, 0),
        minBytes: sizes.length ? Math.min(...sizes) : 0,
        maxBytes: sizes.length ? Math.max(...sizes) : 0,
        files,
      },
      quantization,
      rank: rank ? { rank: rank.rank, world: rank.world, tp: rank.tp, ep: rank.ep, experts: rank.experts } : null,
      ...(doc ? { layout: { tp: doc.tp, ep: doc.ep, world: doc.ranks.length, experts: doc.experts, ranks: doc.ranks.filter((d) => d !== '') } } : {}),
      complete: problems.length === 0,
      problems,
      memoryPlan: memoryPlan(c, { tp: p.tp ?? 8, ep: p.ep ?? 1, ctx: p.ctx ?? 1_000_000 }),
    };
    return report;
  } finally {
    await Promise.all(parts.map((x) => x.ckpt.close()));
  }
}
