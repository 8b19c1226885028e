/**
 * One entry point for `convert`, `quantize` and `dequantize`: open and validate the input, build the
 * plan, then (unless a dry run) write the files of this part that are not done yet, and finalize when
 * every file exists. Bad input and impossible options are refused before the output directory is touched.
 */
import { join, resolve } from 'node:path';
import { dtypeBytes, type DType } from '../dtype/dtypes.js';
import { throwIfAborted, UsageError, InputError } from '../errors.js';
import { formatOf } from '../formats/index.js';
import { quantizationConfigOf } from '../quantize/qconfig.js';
import { recipeReport, resolveQuant, type QuantRequest, type RecipeReport, type ResolvedQuant } from '../quantize/recipe.js';
import { CASTABLE } from '../pipeline/cast.js';
import { finalizeOutput } from './finalize.js';
import type { ExpertsLayout } from '../pipeline/jobs.js';
import { view2d, type Role } from '../pipeline/geometry.js';
import { buildPlan, filePath, partFiles, planHash, type Plan } from '../pipeline/plan.js';
import { makeGrid, rankDirName } from '../pipeline/rank-split.js';
import { openSource, type LayoutMeta, type Source, type SourceTensor } from '../view/source.js';
import { prepareOutput, readManifest, recordDone, reloadDone, type Manifest, type TensorError } from './state.js';
import { errorSummary, groupSizes, type ErrorSummary, type GroupSize } from './summary.js';
import { BufferPool } from '../pipeline/buffer-pool.js';
import type { ReadRect } from '../pipeline/input.js';
import { writePlannedFile } from '../pipeline/write-file.js';
import { quantizeTransform } from '../quantize/quantize-job.js';
import { readRect } from '../view/read-rect.js';
import { FLUSHES_IN_FLIGHT } from '../io-tuning.js';
import { Hasher } from '../pipeline/hasher.js';
import { collectInputs, guardOutput } from '../fs/output-guard.js';
import { LOCK_DIR, lockOutput } from '../fs/output-lock.js';
import { waitOptions, type OutputRunOptions } from '../fs/output-run.js';
import { checkFreeSpace } from '../fs/write-errors.js';

export type RunKind = 'convert' | 'quantize' | 'dequantize';

export interface RunParams extends OutputRunOptions {
  kind: RunKind;
  input: string;
  output: string;
  tp?: number;
  ep?: number;
  experts?: ExpertsLayout;
  /** Float dtype of the output weights (default: as the input; BF16 for dequantize). */
  dtype?: DType;
  castRouter?: boolean;
  maxShardBytes?: number;
  quant?: QuantRequest;
  /** 1-based part index and part count. */
  part?: { index: number; count: number };
  /** Only write the index/config/manifest of a run whose parts are all done. */
  finalizeOnly?: boolean;
  force?: boolean;
  dryRun?: boolean;
  /** Measure quantization errors on every row (default: every 8th block of 128 rows). */
  exactErrors?: boolean;
  /** Bytes per streaming band (default 16 MiB); bounds memory, never changes output bytes. */
  bandBytes?: number;
  /** Threads for the quantization kernels (does not change any output byte). */
  threads?: number;
  /** Called once the plan is known and before any file is written (not on a dry run). */
  onPlan?: (plan: PlanInfo) => void;
  onProgress?: (done: number, total: number) => void;
}

/** What a run is about to do: the result so far (layout, groups, totals) and the files left to write. */
export interface PlanInfo {
  result: RunResult;
  /** Files of this part already done by an earlier run. */
  alreadyDone: number;
  /** Files and bytes this run writes. */
  todoFiles: number;
  todoBytes: number;
}

export interface RunResult {
  kind: RunKind;
  input: string;
  output: string;
  dryRun: boolean;
  layout: { tp: number; ep: number; world: number; experts: ExpertsLayout; dtype: string; ranks: string[] };
  files: number;
  totalBytes: number;
  inputBytes: number;
  written: string[];
  skipped: number;
  finalized: boolean;
  part?: { index: number; count: number; files: number };
  groups: GroupSize[];
  errors?: TensorError[];
  errorSummary?: ErrorSummary[];
  /** With a recipe: what it selected (module counts and the modules the ignore lists kept or `force` let through). */
  recipe?: RecipeReport;
}

function validate(p: RunParams, src: Source, quant: ResolvedQuant | undefined): void {
  if (p.kind === 'dequantize' && src.kind !== 'quantized') throw new InputError('E_NOT_QUANTIZED', `${p.input}: config.json has no quantization_config; nothing to dequantize`);
  if (p.kind !== 'dequantize' && src.kind === 'quantized') throw new InputError('E_QUANTIZED_INPUT', `${p.input}: input is quantized (quantization_config in config.json); run m1kit dequantize first`);
  if (p.dtype && !CASTABLE.has(p.dtype)) throw new UsageError(`--dtype ${p.dtype} is not a float dtype m1kit casts to`);
  for (const t of src.canon) {
    if (!t.quant && !CASTABLE.has(t.dtype)) throw new InputError('E_DTYPE', `${p.input}: tensor "${t.name}" has dtype ${t.dtype}; expected BF16, F16 or F32`);
  }
  if (quant) {
    if ((p.tp ?? 1) > 1 || (p.ep ?? 1) > 1 || (p.experts ?? 'per-expert') !== 'per-expert') {
      throw new UsageError('quantize writes the HF per-expert layout; re-shard the quantized output with convert is not supported, so drop --tp/--ep/--experts');
    }
    const fmt = formatOf(quant.scheme);
    for (const t of src.canon) {
      const [R, C] = view2d(t.shape);
      const problem = quant.modules.has(t.info.module) ? fmt.shapeProblem?.(R, C, quant.group) : undefined;
      if (problem) throw new InputError('E_SCHEME_SHAPE', `${p.input}: "${t.name}" ${problem}`);
    }
  }
}

function outputConfig(p: RunParams, src: Source, quant: ResolvedQuant | undefined): Record<string, unknown> {
  const cfg: Record<string, unknown> = { ...src.config.raw };
  if (p.kind === 'dequantize') delete cfg.quantization_config;
  if (quant) cfg.quantization_config = quantizationConfigOf(src.config, quant.scheme, quant.modules, quant.group);
  const dt = p.dtype ?? (p.kind === 'dequantize' ? 'BF16' : undefined);
  if (dt) cfg.torch_dtype = dt === 'BF16' ? 'bfloat16' : dt === 'F16' ? 'float16' : 'float32';
  return cfg;
}

/**
 * Run a conversion.
 * @example await runConversion({ kind: 'convert', input: 'in', output: 'out', tp: 8 });
 */
export async function runConversion(p: RunParams): Promise<RunResult> {
  const input = resolve(p.input);
  // checked before anything is read or written: not an input, not inside or around one, writable
  const guarded = await guardOutput({ path: p.output, kind: 'dir', label: 'output directory' }, await collectInputs([{ path: input, label: 'input' }]));
  const output = guarded.real;
  const src = await openSource(input, p.signal);
  try {
    const quant = p.quant ? resolveQuant(p.quant, src.config) : undefined;
    validate(p, src, quant);
    const grid = makeGrid(src.config, p.tp ?? 1, p.ep ?? 1);
    const experts = p.experts ?? 'per-expert';
    const dtype = p.dtype ?? (p.kind === 'dequantize' ? 'BF16' : undefined);
    const plan: Plan = buildPlan({
      config: src.config,
      canon: src.canon,
      grid,
      experts,
      dtype,
      castRouter: p.castRouter ?? false,
      quant: quant ? { scheme: quant.scheme, group: quant.group, quantizes: (t) => quant.modules.has(t.info.module) } : undefined,
      maxShardBytes: p.maxShardBytes,
      keepSharding: src.sharding,
    });
    const config = outputConfig(p, src, quant);
    const hash = planHash(plan, { kind: p.kind, input: src.identity, config });
    const ranks = plan.dirs.map((d) => d.dir).filter((d) => d !== '');
    const canonMap = new Map(src.canon.map((t) => [t.name, t]));
    const result: RunResult = {
      kind: p.kind,
      input,
      output: resolve(p.output),
      dryRun: Boolean(p.dryRun),
      layout: { tp: grid.tp, ep: grid.ep, world: grid.world, experts, dtype: dtype ?? 'as input', ranks },
      files: plan.files.length,
      totalBytes: plan.totalBytes,
      inputBytes: src.canon.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1) * dtypeBytes(t.dtype), 0),
      written: [],
      skipped: 0,
      finalized: false,
      groups: groupSizes(plan, canonMap),
    };
    if (quant && p.quant?.recipe) result.recipe = recipeReport(quant);
    if (p.dryRun) return result;

    const layout: LayoutMeta | undefined =
      grid.world > 1 || experts !== 'per-expert'
        ? { format: 'm1kit-layout', version: 1, tp: grid.tp, ep: grid.ep, world: grid.world, experts, ranks: ranks.length ? ranks : [], ...(src.sharding ? { source: src.sharding } : {}) }
        : undefined;
    // one writer per output directory (parts of this same plan excepted) from here to the end of the run
    const share = p.part ? { part: p.part.index, count: p.part.count } : p.finalizeOnly ? ('finalize' as const) : undefined;
    const lock = await lockOutput(join(output, LOCK_DIR), { plan: hash, ...(share ? { share } : {}), ...waitOptions(p), what: `output directory ${result.output}` });
    try {
      await writeOutput(p, { src, plan, hash, config, layout, output, result, canonMap, freeBytes: p.freeBytes });
    } finally {
      await lock.release();
    }
    return result;
  } finally {
    await src.close();
  }
}

interface WriteState {
  src: Source;
  plan: Plan;
  hash: string;
  config: Record<string, unknown>;
  layout: LayoutMeta | undefined;
  /** Real path of the output directory. */
  output: string;
  result: RunResult;
  canonMap: Map<string, SourceTensor>;
  freeBytes: ((dir: string) => Promise<number>) | undefined;
}

/** Write this run's files (under the output lock), then finalize when every file of the plan exists. */
async function writeOutput(p: RunParams, w: WriteState): Promise<void> {
  const { src, plan, hash, config, layout, output, result, canonMap } = w;
  const input = result.input;
  const prep = await prepareOutput(output, p.kind, hash, Boolean(p.force));
  let done = prep.done;
  const mine = p.part ? partFiles(plan, p.part.index, p.part.count) : plan.files;
  if (p.part) result.part = { ...p.part, files: mine.length };
  const todo = prep.complete || p.finalizeOnly ? [] : mine.filter((f) => !done.has(filePath(f)));
  // a finished output counts every file of this part as already done
  result.skipped = prep.complete ? mine.length : mine.filter((f) => done.has(filePath(f))).length;
  const total = todo.reduce((a, f) => a + f.bytes, 0);
  if (!prep.complete && !p.finalizeOnly) await checkFreeSpace(result.output, total, w.freeBytes);
  p.onPlan?.({ result, alreadyDone: result.skipped, todoFiles: todo.length, todoBytes: total });
  if (!prep.complete && !p.finalizeOnly) {
    let bytes = 0;
    p.onProgress?.(0, total);
    const pool = new BufferPool();
    const hasher = new Hasher();
    // the pipeline reads only tensors it got from src.byName, which are this source's
    const read: ReadRect = (t, rect, into) => readRect(t as SourceTensor, rect, into);
    const transform = quantizeTransform({ kernels: p.threads ? { threads: p.threads } : {}, errorStride: p.exactErrors ? 1 : undefined });
    // later files are written while earlier ones are hashed and fsynced (≤ FLUSHES_IN_FLIGHT); a file is
    // recorded done only once it is durable
    const flushing: Promise<void>[] = [];
    try {
      for (const f of todo) {
        throwIfAborted(p.signal);
        const { durable } = await writePlannedFile(output, f, { src, read, transform, signal: p.signal, pool, hasher, bandBytes: p.bandBytes, onBytes: (n) => p.onProgress?.((bytes += n), total) });
        const flushed = durable.then(async (record) => {
          await recordDone(output, record);
          done.set(record.file, record);
          result.written.push(record.file);
        });
        flushed.catch(() => undefined); // observed below; keeps a failure from being reported as unhandled meanwhile
        flushing.push(flushed);
        while (flushing.length >= FLUSHES_IN_FLIGHT) await flushing.shift();
      }
      while (flushing.length > 0) await flushing.shift();
      const order = new Map(plan.files.map((f, i) => [filePath(f), i]));
      result.written.sort((a, b) => order.get(a)! - order.get(b)!);
    } catch (e) {
      await Promise.allSettled(flushing);
      throw e;
    } finally {
      await hasher.close();
    }
  }
  let errors: TensorError[] = [];
  if (prep.complete) {
    result.finalized = true;
    errors = (await readManifest(output))?.errors ?? [];
  } else {
    done = await reloadDone(output);
    const all = plan.files.every((f) => done.has(filePath(f)));
    if (all || p.finalizeOnly) {
      let m: Manifest;
      try {
        m = await finalizeOutput({ input, output, plan, done, kind: p.kind, planHash: hash, config, layout });
      } catch (e) {
        // another part may have finalized at the same moment: accept its (identical) result
        const other = await readManifest(output);
        if (!p.part || !all || other?.planHash !== hash) throw e;
        m = other;
      }
      errors = m.errors ?? [];
      result.finalized = true;
    } else {
      errors = [...done.values()].flatMap((r) => r.errors ?? []);
    }
  }
  if (p.quant) {
    result.errors = errors;
    result.errorSummary = errorSummary(errors, canonMap);
  }
}

export { rankDirName };
