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
import { rankExpectation } from './rank-layout.js';

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
  complete: boolean;
  problems: Problem[];
  memoryPlan: MemoryPlan;
}

/**
 * @example const r = await inspectCheckpoint({ dir: 'fixtures/tiny', tp: 8, ctx: 1_000_000 });
 */
export async function inspectCheckpoint(params: InspectParams | string): Promise<InspectReport> {
  const p: InspectParams = typeof params === 'string' ? { dir: params } : params;
  const ckpt = await Checkpoint.open(p.dir, { allowMissingShards: true, ...(p.signal ? { signal: p.signal } : {}), ...(p.onProgress ? { onProgress: p.onProgress } : {}) });
  try {
    const c = ckpt.config;
    const bytesByDtype: Partial<Record<DType, number>> = {};
    const perFile = new Map<string, number>();
    let actualParams = 0;
    for (const [name, { file, info }] of ckpt.tensors) {
      bytesByDtype[info.dtype] = (bytesByDtype[info.dtype] ?? 0) + (info.end - info.begin);
      perFile.set(file, (perFile.get(file) ?? 0) + 1);
      actualParams += info.shape.reduce((a, b) => a * b, 1);
    }
    const quantization = (ckpt.configRaw.quantization_config as unknown) ?? null;
    const total = typeof ckpt.indexMetadata.total_size === 'number' ? ckpt.indexMetadata.total_size : null;
    const rank = await rankExpectation(p.dir, c);
    const problems = checkpointProblems(ckpt, rank ? { expected: rank.expected } : {});
    for (const s of ckpt.missingShards) problems.unshift({ kind: 'missing', tensor: s, message: `shard file "${s}" listed in the index is missing` });
    if (ckpt.missingShards.length === 0 && total !== null && total !== ckpt.dataBytes) {
      problems.push({ kind: 'shape', tensor: 'model.safetensors.index.json', expected: String(ckpt.dataBytes), found: String(total), message: `index metadata.total_size is ${total} but the shards hold ${ckpt.dataBytes} bytes of tensor data` });
    }
    const sizes = ckpt.files.map((f) => ckpt.fileSizes.get(f) ?? 0);
    return {
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
      tensors: ckpt.tensors.size,
      bytesByDtype,
      dataBytes: ckpt.dataBytes,
      indexTotalSize: total,
      shards: {
        count: ckpt.files.length + ckpt.missingShards.length,
        missing: ckpt.missingShards,
        totalBytes: sizes.reduce((a, b) => a + b, 0),
        minBytes: sizes.length ? Math.min(...sizes) : 0,
        maxBytes: sizes.length ? Math.max(...sizes) : 0,
        files: ckpt.files.map((f) => ({ name: f, bytes: ckpt.fileSizes.get(f) ?? 0, tensors: perFile.get(f) ?? 0 })),
      },
      quantization,
      rank: rank ? { rank: rank.rank, world: rank.world, tp: rank.tp, ep: rank.ep, experts: rank.experts } : null,
      complete: problems.length === 0,
      problems,
      memoryPlan: memoryPlan(c, { tp: p.tp ?? 8, ep: p.ep ?? 1, ctx: p.ctx ?? 1_000_000 }),
    };
  } finally {
    await ckpt.close();
  }
}
