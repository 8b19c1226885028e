import type { Command } from 'commander';
import { action, countArg, intArg, type CommandContext } from './_shared/action.js';
import { formatBytes, table } from './_shared/reporter.js';
import { ExitCode, InputError } from '../core/errors.js';
import { inspectCheckpoint, type InspectReport } from '../core/inspect/inspect.js';
import { checkpointOptions, checkpointPath, type CheckpointArgOptions } from './_shared/checkpoint-arg.js';
import { count } from '../core/plural.js';
import { checkCheckpointForEngine, ENGINE_SPECS, parseEngine, type EngineReport } from '../core/engines/inspect-engine.js';

const PROBLEMS_SHOWN = 20;

function render(r: InspectReport): string {
  const c = r.config;
  const p = r.params;
  const mp = r.memoryPlan;
  const lines = [
    `${r.dir}: ${r.architecture.join(', ') || '(no architectures field)'}`,
    `  layers       ${c.layers} (${r.layers.lightning.length} lightning, ${r.layers.softmax.length} softmax at ${r.layers.softmax.join(', ') || '—'})`,
    `  dims         hidden ${c.hiddenSize}, heads ${c.heads}×${c.headDim} (kv ${c.kvHeads}, rotary ${c.rotaryDim}), experts ${c.experts} top-${c.expertsPerToken} × ${c.intermediateSize}, vocab ${c.vocabSize}`,
    `  parameters   ${p.total.toLocaleString('en-US')} from config (${p.actual.toLocaleString('en-US')} in files), activated ${p.activated.toLocaleString('en-US')} per token`,
    `  tensors      ${r.tensors} in ${count(r.shards.count, 'file')}, ${formatBytes(r.dataBytes)} of data` + (r.indexTotalSize !== null ? ` (index total_size ${r.indexTotalSize.toLocaleString('en-US')})` : ''),
    `  dtypes       ${Object.entries(r.bytesByDtype).map(([d, b]) => `${d} ${formatBytes(b ?? 0)}`).join(', ')}`,
    `  shards       min ${formatBytes(r.shards.minBytes)}, max ${formatBytes(r.shards.maxBytes)}` + (r.shards.missing.length ? `, ${r.shards.missing.length} MISSING` : ''),
    ...(r.layout ? [`  layout       m1kit layout: tp ${r.layout.tp}, ep ${r.layout.ep}, experts ${r.layout.experts}` + (r.layout.ranks.length ? `, ${count(r.layout.ranks.length, 'rank')} (${r.layout.ranks[0]} …); each checked against its rank-local shapes` : '; checked against its shapes')] : []),
    ...(r.rank ? [`  rank         ${r.rank.rank} of ${r.rank.world} (m1kit layout: tp ${r.rank.tp}, ep ${r.rank.ep}, experts ${r.rank.experts}); checked against rank-local shapes`] : []),
    `  quantization ${r.quantization ? JSON.stringify(r.quantization).slice(0, 120) : 'none'}`,
    `  complete     ${r.complete ? 'yes' : `no — ${count(r.problems.length, 'problem')}`}`,
    ...r.problems.slice(0, PROBLEMS_SHOWN).map((x) => `    ${x.message}`),
    ...(r.problems.length > PROBLEMS_SHOWN ? [`    … and ${r.problems.length - PROBLEMS_SHOWN} more (see --json)`] : []),
    '',
    `Memory plan: TP ${mp.tp}, EP ${mp.ep} (${count(mp.gpus, 'GPU')}), context ${mp.ctx.toLocaleString('en-US')} tokens, batch ${mp.batch}`,
    table(
      ['weights as', 'total', 'per GPU', '+ KV + state per GPU'],
      mp.formats.map((f) => [f.format, formatBytes(f.weightBytesTotal), formatBytes(f.weightBytesPerGpu), formatBytes(f.weightBytesPerGpu + mp.kvCacheBytesPerGpu + mp.lightningStateBytesPerGpu)]),
    ),
    `  softmax KV cache (bf16): ${formatBytes(mp.kvCacheBytesPerToken)}/token → ${formatBytes(mp.kvCacheBytesTotal)} total, ${formatBytes(mp.kvCacheBytesPerGpu)} per GPU`,
    `  lightning state (fp32, constant in context): ${formatBytes(mp.lightningStateBytesTotal)} total, ${formatBytes(mp.lightningStateBytesPerGpu)} per GPU`,
    ...mp.warnings.map((w) => `  note: ${w}`),
  ];
  return lines.join('\n');
}

function renderEngine(dir: string, r: EngineReport): string {
  if (r.ok) return `${dir}: no problem found for ${r.engine} at TP ${r.tp} (by the rules m1kit knows; see quantize --list)`;
  const shown = r.problems.slice(0, PROBLEMS_SHOWN).map((p) => `  ${p.where}: ${p.message}`);
  const more = r.problems.length > PROBLEMS_SHOWN ? [`  … and ${r.problems.length - PROBLEMS_SHOWN} more (see --json)`] : [];
  return [`${dir}: ${count(r.problems.length, 'problem')} for ${r.engine} at TP ${r.tp}`, ...shown, ...more].join('\n');
}

/** The report goes to stdout; problems exit 3 (--json: the report, with every problem, is the document). */
async function engineCheck(ctx: CommandContext, dir: string, engine: string, tp: number): Promise<number | void> {
  const r = await checkCheckpointForEngine(dir, engine, tp, ctx.signal);
  ctx.reporter.result(r, () => renderEngine(dir, r));
  if (r.ok) return;
  if (ctx.globals.json) return ExitCode.badInput;
  throw new InputError('E_ENGINE', `${dir}: ${count(r.problems.length, 'problem')} for ${engine}; first: ${r.problems[0]!.where}: ${r.problems[0]!.message}`);
}

export function register(program: Command): void {
  checkpointOptions(program.command('inspect'))
    .description('headers-only view of a checkpoint: parameters, dtypes, completeness, memory plan per GPU')
    .argument('<dir>', 'checkpoint directory (config.json + safetensors shards), or a repo id in the Hugging Face cache')
    .option('--tp <n>', 'tensor-parallel ranks for the memory plan', intArg('--tp'), 8)
    .option('--ep <n>', 'expert-parallel ranks for the memory plan (1 = experts TP-split)', intArg('--ep'), 1)
    .option('--ctx <tokens>', 'context length for KV-cache sizing (1000000, 128k, 1m = 2^20)', countArg('--ctx'), 1_000_000)
    .option('--strict', 'exit with code 3 when the checkpoint is incomplete', false)
    .option('--engine <engine>', `check against an engine's loading rules (${ENGINE_SPECS}; vllm = vllm@0.23) at --tp ranks; exit 3 naming each problem`)
    .addHelpText(
      'after',
      `
Reads only config.json, the index and the safetensors headers (seconds, even for the 912 GB release).

Examples:
  m1kit inspect fixtures/tiny
  m1kit inspect ~/models/MiniMax-M1-80k --tp 8 --ctx 1000000 --json
  m1kit inspect ./partial-download --strict    # exit 3 if any tensor is missing
  m1kit inspect ./m1-fp8 --engine vllm@0.23 --tp 8   # exit 3 if vLLM's rules find a problem`,
    )
    .action(
      action('inspect', async (ctx, dir: string, o: { tp: number; ep: number; ctx: number; strict: boolean; engine?: string } & CheckpointArgOptions) => {
        if (o.engine !== undefined) parseEngine(o.engine);
        dir = await checkpointPath(ctx, dir, o);
        if (o.engine !== undefined) return engineCheck(ctx, dir, o.engine, o.tp);
        const bar = ctx.reporter.progress('headers', 1);
        const report = await inspectCheckpoint({ dir, tp: o.tp, ep: o.ep, ctx: o.ctx, signal: ctx.signal, onProgress: (d, t) => (bar.setTotal(t), bar.update(d)) });
        bar.stop();
        if (!(o.strict && !report.complete)) return ctx.reporter.result(report, () => render(report));
        // the report is the output (stdout) and the failure an error (stderr); --json: the error document alone
        if (!ctx.globals.json) ctx.reporter.result(report, () => render(report));
        throw new InputError('E_INCOMPLETE', `${dir}: checkpoint is incomplete (${count(report.problems.length, 'problem')}); first: ${report.problems[0]?.message}`);
      }),
    );
}
