/**
 * Human-readable text of a BenchResult (strings only; the command prints them): a verdict first, then
 * tables that fit DEFAULT_WIDTH columns; `wide` adds every column, the whole sweep and the full notes.
 * Every table says whether its figures are modelled, measured, derived or extrapolated, and every
 * percentage above 100% of a reference carries a footnote saying why it can be.
 */
import { count } from '../plural.js';
import { formatTokens } from '../flops/tokens.js';
import { NOISE_FACTOR, type CompareReport } from './compare.js';
import type { BenchResult, Figure } from './schema.js';

/** Columns the default output fits in. */
export const DEFAULT_WIDTH = 100;
/** A sweep length this close to --ctx (relative) repeats the --ctx row; shown only with `wide`. */
const SAME_ROW_TOLERANCE = 0.1;

export interface TextTable {
  title: string;
  headers: string[];
  rows: string[][];
}

export interface TextOptions {
  /** Every column, every sweep length and the full notes. */
  wide?: boolean;
}

/** 3 significant digits: 421287245312 → "4.21e11", 88.2 → "88.2", 0.0042 → "4.20e-3". */
export const sci = (x: number): string => (x === 0 ? '0' : Math.abs(x) >= 1000 || Math.abs(x) < 1e-2 ? x.toExponential(2).replace('e+', 'e') : x.toPrecision(3));
const fixed = (x: number, digits = 3): string => x.toFixed(digits);
const gib = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(0)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(0)} KiB` : `${b} B`);
const billions = (x: number): string => (x >= 1e9 ? `${(x / 1e9).toFixed(2)}B` : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x.toLocaleString('en-US'));
const secs = (s: number): string => (s >= 86400 * 2 ? `${(s / 86400).toFixed(1)} d` : s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(2)} ms`);
/** A context length as the user would say it: 1000000 → "1M", 1048576 → "1M (2^20)", 131072 → "128K". */
const ctxName = (n: number): string => (n % 1_000_000 === 0 ? `${n / 1_000_000}M` : formatTokens(n));

/** Names of the models in a result, by id (from the model figures). */
function modelName(id: string): string {
  return { 'minimax-m1': 'MiniMax-M1', 'deepseek-r1': 'DeepSeek-R1', 'qwen3-235b-a22b': 'Qwen3-235B-A22B' }[id] ?? id;
}
const short = (id: string) => modelName(id).split('-')[0]!;

/** The lengths of the generation table: the sweep and --ctx, without sweep lengths that repeat --ctx. */
function contextRows(r: BenchResult, wide: boolean): number[] {
  const { ctx } = r.params;
  const all = [...new Set([...r.params.sweep, ctx])].sort((a, b) => a - b);
  return wide ? all : all.filter((n) => n === ctx || Math.abs(n - ctx) / ctx > SAME_ROW_TOLERANCE);
}

/**
 * One or two sentences leading the output: the modelled comparison at --ctx and, when kernels ran, what
 * this machine measured.
 * @example "At 1M tokens (modelled): MiniMax-M1 needs 0.10× DeepSeek-R1's generation FLOPs …"
 */
export function verdict(r: BenchResult): string[] {
  const m = r.metrics;
  const v = (id: string): number | undefined => m[id]?.value;
  const { ctx } = r.params;
  const [subject, ...peers] = r.params.models;
  if (!subject) return [];
  const lines: string[] = [];
  const at = `At ${ctxName(ctx)} tokens`;
  const gen = peers.filter((p) => v(`ratio.${subject}/${p}.generation@${ctx}`) !== undefined);
  if (gen.length > 0) {
    const ratios = gen.map((p) => `${v(`ratio.${subject}/${p}.generation@${ctx}`)!.toFixed(2)}× ${modelName(p)}'s`).join(' and ');
    const kv = (id: string) => gib(v(`model.${id}.kv_cache_bytes@${ctx}`) ?? NaN);
    lines.push(`${at} (modelled): ${modelName(subject)} needs ${ratios} generation FLOPs; KV cache ${kv(subject)} vs ${gen.map(kv).join(' and ')}.`);
  }
  const k = `kernel.${subject}`;
  const prefill = v(`${k}.attention_prefill_seconds@${ctx}`);
  const decode = v(`${k}.attention_decode_seconds_per_token@${ctx}`);
  const ratio = v(`${k}.softmax_over_lightning_layer_prefill@${ctx}`);
  const share = v(`${k}.lightning_share_of_prefill@${ctx}`);
  if (prefill !== undefined && decode !== undefined && r.params.kernels) {
    const on = `${count(r.params.kernels.threads, 'thread')} of ${r.machine.cpu}`;
    const detail = [share !== undefined ? `${(share * 100).toFixed(1)}% of it in the lightning layers` : '', ratio !== undefined ? `a softmax layer costs ${ratio.toFixed(0)}× a lightning layer` : ''].filter((x) => x).join('; ');
    lines.push(`${at} (measured kernels, scaled to every layer; ${on}): attention prefill ${secs(prefill)}${detail ? ` (${detail})` : ''}, decode ${secs(decode)}/token.`);
  }  return lines;
}

/** Tables of the modelled part. */
export function modelTables(r: BenchResult, o: TextOptions = {}): TextTable[] {
  const wide = o.wide ?? false;
  const m = r.metrics;
  const v = (id: string): number => m[id]?.value ?? NaN;
  const { ctx } = r.params;
  const [subject, ...peers] = r.params.models;
  const contexts = contextRows(r, wide);
  const tables: TextTable[] = [];
  tables.push({
    title: `Cost at ${ctx.toLocaleString('en-US')} tokens (modelled, physical convention; * = beyond the model's released context)`,
    headers: ['model', 'params', 'active', 'decode FLOP/token', 'prefill FLOP', 'KV cache', 'state', ...(wide ? ['decode bytes/token'] : [])],
    rows: r.params.models.map((id) => {
      const x = `model.${id}`;
      const beyond = m[`${x}.decode_flops@${ctx}`]?.note ? ' *' : '';
      return [
        modelName(id) + beyond,
        billions(v(`${x}.params_total`)),
        billions(v(`${x}.params_active`)),
        sci(v(`${x}.decode_flops@${ctx}`)),
        sci(v(`${x}.prefill_flops@${ctx}`)),
        gib(v(`${x}.kv_cache_bytes@${ctx}`)),
        gib(v(`${x}.state_bytes`)),
        ...(wide ? [gib(v(`${x}.decode_bytes@${ctx}`))] : []),
      ];
    }),
  });
  const paper = r.params.convention === 'paper';
  const conv = paper ? "tech report's Figure-1 convention, units of 1e16 FLOPs" : 'physical convention, FLOPs';
  const gen = (id: string, n: number) => v(`model.${id}.generation_flops@${n}`);
  const absorbed = wide ? peers.filter((p) => m[`model.${p}.generation_flops_absorbed@${contexts[0]}`]) : [];
  tables.push({
    title: `Generation of n tokens from an empty prompt (modelled, ${conv}; K = 1024)`,
    headers: [
      'n',
      ...r.params.models.map(modelName),
      ...peers.map((p) => `${short(subject!)}/${short(p)}`),
      ...absorbed.map((p) => `${short(subject!)}/${short(p)} (absorbed MLA)`),
      ...(wide ? peers.map((p) => `decode ${short(subject!)}/${short(p)}`) : []),
    ],
    rows: contexts.map((n) => [
      formatTokens(n),
      ...r.params.models.map((id) => (paper ? (gen(id, n) / 1e16).toPrecision(4) : sci(gen(id, n)))),
      ...peers.map((p) => fixed(v(`ratio.${subject}/${p}.generation@${n}`))),
      ...absorbed.map((p) => fixed(gen(subject!, n) / v(`model.${p}.generation_flops_absorbed@${n}`))),
      ...(wide ? peers.map((p) => fixed(v(`ratio.${subject}/${p}.decode@${n}`))) : []),
    ]),
  });
  // one row per peer: the lengths above which the subject needs less than 1×, ½×, ¼× its FLOPs
  const ratios = [...new Set(Object.keys(m).filter((id) => id.startsWith(`crossover.${subject}/`)).map((id) => id.split('@')[1]!))].sort((a, b) => Number(b) - Number(a));
  const xs = peers
    .map((p) => [
      modelName(p),
      ...ratios.map((q) => {
        const x = m[`crossover.${subject}/${p}.generation@${q}`];
        return x === undefined ? 'never' : x.value === 0 ? 'always' : `${Math.round(x.value).toLocaleString('en-US')}`;
      }),
    ])
    .filter((row) => row.slice(1).some((c) => c !== 'never'));
  if (xs.length > 0 && ratios.length > 0) {
    tables.push({
      title: `Crossovers (modelled): generation length (tokens) beyond which ${modelName(subject!)} needs < r× a peer's FLOPs`,
      headers: ['peer', ...ratios.map((q) => `r = ${q}`)],
      rows: xs,
    });
  }
  return tables;
}

/** Below this CPU share (of the kernel threads' wall time) a run says that other processes slowed it. */
const BUSY_SHARE = 0.8;

/** Footnotes for percentages above 100%, by the reference they are a share of. */
const OVER_100: Record<string, string> = {
  fma: 'the FMA figure is a probe of this build (one loop, fixed chains), not the hardware peak; a kernel with better instruction mix can exceed it',
  bf16: 'the bf16 figure is a probe of this build (one dot-product loop), not the hardware peak',
  stream: 'the in-place stream reference is one pass over one decode state; the kernel overlaps its reads and writes better than the probe',
  sgemm: "the SGEMM reference is one fixed GEMM shape; the kernel's smaller block products stay in cache and run faster than it",
  bandwidth: 'copy bandwidth is a DRAM figure (buffers far larger than cache); this kernel re-reads a working set that stays in cache (the lightning decode state: heads × d² × 4 B)',
};

/** Tables of the kernel part (empty when kernels were not run), and the footnotes they need. */
export function kernelTables(r: BenchResult, o: TextOptions = {}): { tables: TextTable[]; footnotes: string[] } {
  const wide = o.wide ?? false;
  const m = r.metrics;
  if (!r.params.kernels) return { tables: [], footnotes: [] };
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
    return `${sci(x.value)} ${x.unit.replace('tokens', 'tok')}${x.spread ? ` ±${((x.spread.rel * 100) / 2).toFixed(0)}%` : ''}`;
  };
  const marks: string[] = [];
  const footnotes: string[] = [];
  /** "180.9 (43%)", with a footnote mark when the share is above 100%. */
  const pctOf = (a: string, b: string, ref: keyof typeof OVER_100) => {
    if (!f(a)) return '–';
    const p = f(b)?.value;
    if (p === undefined) return val(a, (x) => x.toFixed(1));
    let mark = '';
    if (p > 100) {
      const text = OVER_100[ref]!;
      let i = marks.indexOf(text);
      if (i < 0) {
        marks.push(text);
        i = marks.length - 1;
        footnotes.push(`[${i + 1}] above 100%: ${text}`);
      }
      mark = `[${i + 1}]`;
    }
    return `${val(a, (x) => x.toFixed(1))} (${p.toFixed(0)}%${mark})`;
  };
  const k = 'kernel';
  const n = ctxName(ctx);
  const kr = r.params.kernels;
  const share = (name: string) => {
    const s = f(`${k}.${name}.cpu_share`);
    return s ? `${(s.value * 100).toFixed(0)}%` : '–';
  };
  const bf16 = f(`${k}.lightning_prefill_bf16.head_tokens_per_s`) !== undefined;
  const decodePct = f(`${k}.lightning_decode.pct_stream`) ? `${k}.lightning_decode.pct_stream` : `${k}.lightning_decode.pct_bandwidth`;
  const named: [string, string[]][] = [
    ['lightning_prefill', ['lightning prefill', rate(`${k}.lightning_prefill.head_tokens_per_s`), pctOf(`${k}.lightning_prefill.gflops`, `${k}.lightning_prefill.pct_fma_peak`, 'fma'), pctOf(`${k}.lightning_prefill.gbs`, `${k}.lightning_prefill.pct_bandwidth`, 'bandwidth'), val(`${k}.lightning_prefill.layer_seconds@${ctx}`, secs), kind(`${k}.lightning_prefill.layer_seconds@${ctx}`)]],
    ...(bf16
      ? ([['lightning_prefill_bf16', ['lightning prefill bf16', rate(`${k}.lightning_prefill_bf16.head_tokens_per_s`), pctOf(`${k}.lightning_prefill_bf16.gflops`, f(`${k}.lightning_prefill_bf16.pct_bf16_peak`) ? `${k}.lightning_prefill_bf16.pct_bf16_peak` : `${k}.lightning_prefill_bf16.pct_fma_peak`, 'bf16'), '–', val(`${k}.lightning_prefill_bf16.layer_seconds@${ctx}`, secs), kind(`${k}.lightning_prefill_bf16.layer_seconds@${ctx}`)]]] as [string, string[]][])
      : []),
    ['lightning_decode', ['lightning decode', rate(`${k}.lightning_decode.layer_tokens_per_s`), val(`${k}.lightning_decode.gflops`, (x) => x.toFixed(1)), pctOf(`${k}.lightning_decode.gbs`, decodePct, decodePct.endsWith('pct_stream') ? 'stream' : 'bandwidth'), `${val(`${k}.lightning_decode.layer_tokens_per_s`, (x) => secs(1 / x))}/tok`, 'derived']],
    ['softmax_prefill', ['softmax prefill', rate(`${k}.softmax_prefill.head_pairs_per_s`), pctOf(`${k}.softmax_prefill.gflops`, `${k}.softmax_prefill.pct_fma_peak`, 'fma'), '–', val(`${k}.softmax_prefill.layer_seconds@${ctx}`, secs), kind(`${k}.softmax_prefill.layer_seconds@${ctx}`)]],
    ['softmax_decode', ['softmax decode', rate(`${k}.softmax_decode.head_keys_per_s`), '–', val(`${k}.softmax_decode.gbs`, (x) => x.toFixed(1)), `${val(`${k}.softmax_decode.layer_seconds@${ctx}`, secs)}/tok`, kind(`${k}.softmax_decode.layer_seconds@${ctx}`)]],
  ];
  const names = named.map(([name]) => name);
  const rows = named.map(([, row]) => row);
  const id0 = r.params.models[0]!;
  const sgemm = f('machine.sgemm_gflops') ? pctOf('machine.sgemm_gflops', 'kernel.lightning_prefill.pct_sgemm', 'sgemm') : undefined;
  const shares = names.map((x) => f(`${k}.${x}.cpu_share`)?.value).filter((x): x is number => x !== undefined);
  if (shares.length > 0 && Math.min(...shares) < BUSY_SHARE) {
    footnotes.push(
      `the kernels got only ${[...new Set([Math.min(...shares), Math.max(...shares)].map((x) => (x * 100).toFixed(0)))].join('–')}% of ${count(kr.threads, 'thread')}' CPU time (other processes were running): rates are that much below this machine's; bench compare divides by this share`,
    );
  }
  const tables: TextTable[] = [
    {
      title: `Kernels (measured: ${count(kr.threads, 'thread')}, device ${kr.device}, ${kr.repeat > 1 ? `median of ${kr.repeat} repeats ± half-spread` : 'one repeat'})`,
      headers: ['kernel', 'rate', 'GFLOP/s (%peak)', 'GB/s (%roof)', `layer @${n}`, ...(wide ? ['is', 'CPU share'] : [])],
      // by default the kind of the layer figure is a mark: "~" = extrapolated (sampled, then scaled)
      rows: rows.map((row, i) => (wide ? [...row, share(names[i]!)] : [...row.slice(0, 4), `${row[5] === 'extrapolated' ? '~' : ''}${row[4]}`])),
    },
  ];
  if (!wide && rows.some((row) => row[5] === 'extrapolated')) footnotes.push(`~ = extrapolated: a measured sample scaled to ${n} (method in each figure's note); the other layer figures are derived`);
  if (wide) {
    tables.push({
      title: `Whole ${modelName(id0)} attention at ${n} (scaled from the kernel rates; attention kernels only)`,
      headers: ['figure', 'value', 'is'],
      rows: [
        [`prefill of ${n} tokens, all layers`, val(`${k}.${id0}.attention_prefill_seconds@${ctx}`, secs), kind(`${k}.${id0}.attention_prefill_seconds@${ctx}`)],
        ['  share spent in lightning layers', val(`${k}.${id0}.lightning_share_of_prefill@${ctx}`, (x) => `${(x * 100).toFixed(1)}%`), kind(`${k}.${id0}.lightning_share_of_prefill@${ctx}`)],
        ['  softmax layer / lightning layer time', val(`${k}.${id0}.softmax_over_lightning_layer_prefill@${ctx}`, (x) => `${x.toFixed(0)}×`), kind(`${k}.${id0}.softmax_over_lightning_layer_prefill@${ctx}`)],
        [`decode one token at ${n}, all layers`, val(`${k}.${id0}.attention_decode_seconds_per_token@${ctx}`, secs), kind(`${k}.${id0}.attention_decode_seconds_per_token@${ctx}`)],
        ['machine fp32 FMA ceiling (GFLOP/s)', val('machine.fma_gflops', (x) => x.toFixed(1)), kind('machine.fma_gflops')],
        ...(f('machine.bf16_gflops') ? [['machine bf16 dot-product ceiling (GFLOP/s; bf16 rows)', val('machine.bf16_gflops', (x) => x.toFixed(1)), kind('machine.bf16_gflops')]] : []),
        ...(f('machine.stream_gbs') ? [['machine in-place stream of one decode state (GB/s; decode)', val('machine.stream_gbs', (x) => x.toFixed(1)), kind('machine.stream_gbs')]] : []),
        ...(sgemm ? [['machine fp32 SGEMM (GFLOP/s; lightning prefill at %)', sgemm, kind('machine.sgemm_gflops')]] : []),
        ['machine copy bandwidth (GB/s)', val('machine.bandwidth_gbs', (x) => x.toFixed(1)), kind('machine.bandwidth_gbs')],
      ],
    });
  } else {
    // the whole-model figures are in the verdict; the same-run references as one line
    const refs = [
      `fp32 FMA ${val('machine.fma_gflops', (x) => x.toFixed(1))} GFLOP/s`,
      ...(f('machine.bf16_gflops') ? [`bf16 dot ${val('machine.bf16_gflops', (x) => x.toFixed(1))} GFLOP/s`] : []),
      ...(sgemm ? [`SGEMM ${sgemm.replace(' (', ' GFLOP/s (lightning prefill at ')}`] : []),
      `copy ${val('machine.bandwidth_gbs', (x) => x.toFixed(1))} GB/s`,
      ...(f('machine.stream_gbs') ? [`in-place stream of a decode state ${val('machine.stream_gbs', (x) => x.toFixed(1))} GB/s`] : []),
    ];
    footnotes.unshift(`references measured in this run (the % columns): ${refs.join(', ')}`);
  }
  return { tables, footnotes };
}

/** The table of a comparison. */
export function compareTable(c: CompareReport): TextTable {
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`);
  const perCpu = c.rows.some((r) => r.perCpu);
  return {
    title: `bench compare (fails on a drop beyond max(${c.maxRegressionPct}%, ${NOISE_FACTOR} × noise)${perCpu ? '; rates per available CPU' : ''}; modelled figures must be identical)`,
    headers: ['metric', 'baseline', 'run', 'delta', 'noise', 'status'],
    rows: c.rows.map((r) => [
      r.id.replace(/^kernel\./, ''),
      r.baseline === null ? '–' : sci(r.baseline),
      r.current === null ? '–' : sci(r.current),
      pct(r.deltaPct),
      r.noisePct === undefined ? '–' : `±${r.noisePct.toFixed(1)}%`,
      r.status.toUpperCase(),
    ]),
  };
}

/** Wrap a note to `width` columns, continuation lines indented by `indent`. */
export function wrap(text: string, width: number, indent = '  '): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && (line + ' ' + w).length > width) {
      lines.push(line);
      line = indent + w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}
