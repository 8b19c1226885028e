/**
 * Human-readable tables of a BenchResult (strings only; the command prints them). Every table says
 * whether its figures are modelled, measured, derived or extrapolated.
 */
import { formatTokens } from '../flops/tokens.js';
import type { CompareReport } from './compare.js';
import type { BenchResult, Figure } from './schema.js';

export interface TextTable {
  title: string;
  headers: string[];
  rows: string[][];
}

/** 3 significant digits: 421287245312 → "4.21e11", 88.2 → "88.2", 0.0042 → "4.20e-3". */
export const sci = (x: number): string => (x === 0 ? '0' : Math.abs(x) >= 1000 || Math.abs(x) < 1e-2 ? x.toExponential(2).replace('e+', 'e') : x.toPrecision(3));
const fixed = (x: number, digits = 3): string => x.toFixed(digits);
const gib = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(0)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(0)} KiB` : `${b} B`);
const billions = (x: number): string => (x >= 1e9 ? `${(x / 1e9).toFixed(2)}B` : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x.toLocaleString('en-US'));
const secs = (s: number): string => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(2)} ms`);

/** Names of the models in a result, by id (from the model figures). */
function modelName(id: string): string {
  return { 'minimax-m1': 'MiniMax-M1', 'deepseek-r1': 'DeepSeek-R1', 'qwen3-235b-a22b': 'Qwen3-235B-A22B' }[id] ?? id;
}

/** Tables of the modelled part. */
export function modelTables(r: BenchResult): TextTable[] {
  const m = r.metrics;
  const v = (id: string): number => m[id]?.value ?? NaN;
  const { ctx } = r.params;
  const [subject, ...peers] = r.params.models;
  const contexts = [...new Set([...r.params.sweep, ctx])].sort((a, b) => a - b);
  const tables: TextTable[] = [];
  tables.push({
    title: `Cost at ${ctx.toLocaleString('en-US')} tokens (modelled, physical convention; * = beyond the model's released context)`,
    headers: ['model', 'params', 'active', 'decode FLOP/token', 'prefill FLOP', 'KV cache', 'state', 'decode bytes/token'],
    rows: r.params.models.map((id) => {
      const x = `model.${id}`;
      const beyond = m[`${x}.decode_flops@${ctx}`]?.note ? ' *' : '';
      return [modelName(id) + beyond, billions(v(`${x}.params_total`)), billions(v(`${x}.params_active`)), sci(v(`${x}.decode_flops@${ctx}`)), sci(v(`${x}.prefill_flops@${ctx}`)), gib(v(`${x}.kv_cache_bytes@${ctx}`)), gib(v(`${x}.state_bytes`)), gib(v(`${x}.decode_bytes@${ctx}`))];
    }),
  });
  const conv = r.params.convention === 'paper' ? "tech report's Figure-1 convention, units of 1e16 FLOPs" : 'physical convention, FLOPs';
  const gen = (id: string, n: number) => v(`model.${id}.generation_flops@${n}`);
  const short = (id: string) => modelName(id).split('-')[0]!;
  const absorbed = peers.filter((p) => m[`model.${p}.generation_flops_absorbed@${contexts[0]}`]);
  tables.push({
    title: `Generation of n tokens from an empty prompt (modelled, ${conv})`,
    headers: [
      'n',
      ...r.params.models.map(modelName),
      ...peers.map((p) => `${short(subject!)}/${short(p)}`),
      ...absorbed.map((p) => `${short(subject!)}/${short(p)} (absorbed MLA)`),
      ...peers.map((p) => `decode ${short(subject!)}/${short(p)}`),
    ],
    rows: contexts.map((n) => [
      formatTokens(n),
      ...r.params.models.map((id) => (r.params.convention === 'paper' ? (gen(id, n) / 1e16).toPrecision(4) : sci(gen(id, n)))),
      ...peers.map((p) => fixed(v(`ratio.${subject}/${p}.generation@${n}`))),
      ...absorbed.map((p) => fixed(gen(subject!, n) / v(`model.${p}.generation_flops_absorbed@${n}`))),
      ...peers.map((p) => fixed(v(`ratio.${subject}/${p}.decode@${n}`))),
    ]),
  });
  const xs = peers.flatMap((p) =>
    Object.keys(m)
      .filter((id) => id.startsWith(`crossover.${subject}/${p}.`))
      .map((id) => [`${modelName(subject!)} < ${id.split('@')[1]}× ${modelName(p)}`, v(id) === 0 ? 'at every length' : `above ${Math.round(v(id)).toLocaleString('en-US')} tokens`]),
  );
  if (xs.length > 0) tables.push({ title: 'Crossovers of the generation curves (modelled)', headers: ['condition', 'length'], rows: xs });
  return tables;
}

/** Tables of the kernel part (empty when kernels were not run). */
export function kernelTables(r: BenchResult): TextTable[] {
  const m = r.metrics;
  if (!r.params.kernels) return [];
  const { ctx } = r.params;
  const f = (id: string): Figure | undefined => m[id];
  const val = (id: string, fmt: (x: number) => string = sci): string => {
    const x = f(id);
    return x ? fmt(x.value) : '–';
  };
  const kind = (id: string): string => f(id)?.kind ?? '–';
  const rate = (id: string): string => {
    const x = f(id);
    if (!x) return '–';
    return `${sci(x.value)} ${x.unit}${x.spread ? ` ±${((x.spread.rel * 100) / 2).toFixed(1)}%` : ''}`;
  };
  const pctOf = (a: string, b: string) => (f(a) ? `${val(a, (x) => x.toFixed(1))} (${val(b, (x) => x.toFixed(0))}%)` : '–');
  const k = 'kernel';
  const n = formatTokens(ctx);
  return [
    {
      title: `Kernels (measured on ${r.machine.cpu}, ${r.params.kernels.threads} threads, device ${r.params.kernels.device}; rate = median of ${r.params.kernels.repeat})`,
      headers: ['kernel', 'measured rate', 'GFLOP/s (% of its peak)', 'GB/s (% of its roof)', `one layer @${n}`, 'layer figure is'],
      rows: [
        ['lightning prefill', rate(`${k}.lightning_prefill.head_tokens_per_s`), pctOf(`${k}.lightning_prefill.gflops`, `${k}.lightning_prefill.pct_fma_peak`), pctOf(`${k}.lightning_prefill.gbs`, `${k}.lightning_prefill.pct_bandwidth`), val(`${k}.lightning_prefill.layer_seconds@${ctx}`, secs), kind(`${k}.lightning_prefill.layer_seconds@${ctx}`)],
        ...(f(`${k}.lightning_prefill_bf16.head_tokens_per_s`) ? [['lightning prefill bf16', rate(`${k}.lightning_prefill_bf16.head_tokens_per_s`), pctOf(`${k}.lightning_prefill_bf16.gflops`, `${k}.lightning_prefill_bf16.pct_bf16_peak`), '–', val(`${k}.lightning_prefill_bf16.layer_seconds@${ctx}`, secs), kind(`${k}.lightning_prefill_bf16.layer_seconds@${ctx}`)]] : []),
        ['lightning decode', rate(`${k}.lightning_decode.layer_tokens_per_s`), val(`${k}.lightning_decode.gflops`, (x) => x.toFixed(1)), pctOf(`${k}.lightning_decode.gbs`, f(`${k}.lightning_decode.pct_stream`) ? `${k}.lightning_decode.pct_stream` : `${k}.lightning_decode.pct_bandwidth`), `${val(`${k}.lightning_decode.layer_tokens_per_s`, (x) => secs(1 / x))}/token`, 'derived'],
        ['softmax prefill', rate(`${k}.softmax_prefill.head_pairs_per_s`), pctOf(`${k}.softmax_prefill.gflops`, `${k}.softmax_prefill.pct_fma_peak`), '–', val(`${k}.softmax_prefill.layer_seconds@${ctx}`, secs), kind(`${k}.softmax_prefill.layer_seconds@${ctx}`)],
        ['softmax decode', rate(`${k}.softmax_decode.head_keys_per_s`), '–', val(`${k}.softmax_decode.gbs`, (x) => x.toFixed(1)), `${val(`${k}.softmax_decode.layer_seconds@${ctx}`, secs)}/token`, kind(`${k}.softmax_decode.layer_seconds@${ctx}`)],
      ],
    },
    {
      title: `Whole ${modelName(r.params.models[0]!)} attention at ${n} (scaled from the kernel rates; attention kernels only)`,
      headers: ['figure', 'value', 'is'],
      rows: [
        [`prefill of ${n} tokens, all layers`, val(`${k}.${r.params.models[0]}.attention_prefill_seconds@${ctx}`, secs), kind(`${k}.${r.params.models[0]}.attention_prefill_seconds@${ctx}`)],
        ['  share spent in lightning layers', val(`${k}.${r.params.models[0]}.lightning_share_of_prefill@${ctx}`, (x) => `${(x * 100).toFixed(1)}%`), kind(`${k}.${r.params.models[0]}.lightning_share_of_prefill@${ctx}`)],
        ['  softmax layer / lightning layer time', val(`${k}.${r.params.models[0]}.softmax_over_lightning_layer_prefill@${ctx}`, (x) => `${x.toFixed(0)}×`), kind(`${k}.${r.params.models[0]}.softmax_over_lightning_layer_prefill@${ctx}`)],
        [`decode one token at ${n}, all layers`, val(`${k}.${r.params.models[0]}.attention_decode_seconds_per_token@${ctx}`, secs), kind(`${k}.${r.params.models[0]}.attention_decode_seconds_per_token@${ctx}`)],
        ['machine fp32 FMA ceiling', `${val('machine.fma_gflops', (x) => x.toFixed(1))} GFLOP/s`, kind('machine.fma_gflops')],
        ...(f('machine.bf16_gflops') ? [['machine bf16 dot-product ceiling (% columns of bf16 rows)', `${val('machine.bf16_gflops', (x) => x.toFixed(1))} GFLOP/s`, kind('machine.bf16_gflops')]] : []),
        ...(f('machine.stream_gbs') ? [['machine in-place stream of one decode state (% column of decode)', `${val('machine.stream_gbs', (x) => x.toFixed(1))} GB/s`, kind('machine.stream_gbs')]] : []),
        ...(f('machine.sgemm_gflops') ? [['machine fp32 SGEMM (lightning prefill at ' + val('kernel.lightning_prefill.pct_sgemm', (x) => x.toFixed(0)) + '%)', `${val('machine.sgemm_gflops', (x) => x.toFixed(1))} GFLOP/s`, kind('machine.sgemm_gflops')]] : []),
        ['machine copy bandwidth', `${val('machine.bandwidth_gbs', (x) => x.toFixed(1))} GB/s`, kind('machine.bandwidth_gbs')],
      ],
    },
  ];
}

/** The table of a comparison. */
export function compareTable(c: CompareReport): TextTable {
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`);
  return {
    title: `bench compare (gate: regression > ${c.maxRegressionPct}% fails; modelled figures must be identical)`,
    headers: ['metric', 'unit', 'baseline', 'run', 'delta', 'spread', 'status'],
    rows: c.rows.map((r) => [r.id, r.unit, r.baseline === null ? '–' : sci(r.baseline), r.current === null ? '–' : sci(r.current), pct(r.deltaPct), r.spreadPct === undefined ? '–' : `${r.spreadPct.toFixed(1)}%`, r.status.toUpperCase()]),
  };
}
