import { Option, type Command } from 'commander';
import { availableParallelism } from 'node:os';
import { action, intArg, type CommandContext } from './_shared/action.js';
import { table, type Progress } from './_shared/reporter.js';
import { loadBackend, type DeviceChoice } from '../core/bench/load-backend.js';
import { compareResults, failureHint, failureSummary, parsePercent, readBenchResult } from '../core/bench/compare.js';
import { runBench, BUDGET_SHARES, DEFAULT_KERNEL_SECONDS, DEFAULT_REPEAT, type BenchProgress } from '../core/bench/run.js';
import type { BenchResult } from '../core/bench/schema.js';
import { compareTable, DEFAULT_WIDTH, kernelTables, modelTables, verdict, wrap, type TextTable } from '../core/bench/text.js';
import { UsageError, VerificationError } from '../core/errors.js';
import { generationChartSpec } from '../core/flops/chart.js';
import { PEERS } from '../core/flops/peers.js';
import { loadSubject } from '../core/flops/subject.js';
import { DEFAULT_SWEEP, parseTokenList, parseTokens } from '../core/flops/tokens.js';
import { plotFormatOf, renderVegaLite } from '../core/plot/render.js';
import { collectInputs, guardOutput } from '../core/fs/output-guard.js';

interface Opts {
  ctx: number;
  sweep: number[];
  convention: 'physical' | 'paper';
  config?: string;
  plot?: string;
  device: DeviceChoice;
  repeat: number;
  heads?: number;
  timeBudget: number;
  kernels?: boolean;
  wide?: boolean;
  /** --sweep was given on the command line (not the default). */
  sweepGiven?: boolean;
}

const tokens = (what: string) => (v: string) => parseTokens(v, what);
const oneOf = <T extends string>(what: string, values: readonly T[]) => (v: string): T => {
  if (!(values as readonly string[]).includes(v)) throw new UsageError(`${what} must be one of ${values.join(', ')}, got "${v}"`);
  return v as T;
};
const seconds = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--time-budget expects seconds > 0, got "${v}"`);
  return n;
};

/** Tables, then notes and footnotes; wrapped to DEFAULT_WIDTH unless --wide. */
function render(lead: string[], tables: TextTable[], notes: string[], wide: boolean): string {
  const fit = (s: string) => (wide ? s : wrap(s, DEFAULT_WIDTH));
  return [
    lead.map(fit).join('\n'),
    ...tables.map((t) => `${fit(t.title)}\n${table(t.headers, t.rows)}`),
    notes.map((n) => fit(`note: ${n}`)).join('\n'),
  ]
    .filter((s) => s)
    .join('\n\n');
}

function renderBench(r: BenchResult, withModel: boolean, wide: boolean): string {
  const k = kernelTables(r, { wide });
  return render(verdict(r), [...(withModel ? modelTables(r, { wide }) : []), ...k.tables], [...k.footnotes, ...r.notes], wide);
}

/** The options of a subcommand as its own --help lists them (for the parent's --help). */
function optionList(c: Command): string {
  const h = c.createHelp();
  h.helpWidth = Math.min(process.stdout.columns || 80, DEFAULT_WIDTH);
  const opts = h.visibleOptions(c).filter((o) => o.long !== '--help');
  const w = Math.max(...opts.map((o) => h.optionTerm(o).length));
  return opts.map((o) => h.formatItem(h.optionTerm(o), w, h.optionDescription(o), h)).join('\n');
}

/** Weight of each phase in one repeat: its share of the time budget, so the bar moves with the clock. */
const PHASE_WEIGHT: Record<string, number> = {
  lightning_prefill: BUDGET_SHARES.prefillSeconds,
  lightning_decode: BUDGET_SHARES.decodeSeconds,
  softmax_prefill: BUDGET_SHARES.softmaxPrefillSeconds,
  softmax_decode: BUDGET_SHARES.softmaxDecodeSeconds,
};
const PHASE_ORDER = ['lightning_prefill', 'lightning_decode', 'softmax_prefill', 'softmax_decode'];

/** One bar for the whole kernel run (percent of the timed work), the current phase as its note. */
function progressBar(ctx: CommandContext, repeat: number) {
  let bar: Progress | undefined;
  const weights = PHASE_ORDER.map((p) => PHASE_WEIGHT[p]!);
  const perRepeat = weights.reduce((a, b) => a + b, 0);
  const onProgress = (e: BenchProgress) => {
    bar ??= ctx.reporter.progress('bench', 100);
    const i = PHASE_ORDER.indexOf(e.phase);
    const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 0;
    const within = i < 0 ? 0 : weights.slice(0, i).reduce((a, b) => a + b, 0) + weights[i]! * frac;
    bar.update(i < 0 ? 0 : (100 * (e.repeat * perRepeat + within)) / (repeat * perRepeat), `${e.phase.replace('_', ' ')}${repeat > 1 ? ` (repeat ${e.repeat + 1}/${repeat})` : ''}`);
  };
  return { onProgress, finish: () => bar?.finish(`${repeat > 1 ? `${repeat} repeats of ` : ''}the timed kernels`), stop: () => bar?.stop() };
}

async function run(ctx: CommandContext, o: Opts, withKernels: boolean, withModel: boolean): Promise<void> {
  // the plot path is checked before the run: a known format, not an input, in an existing writable directory
  const plot = o.plot === undefined ? undefined : (plotFormatOf(o.plot), await guardOutput({ path: o.plot, kind: 'file', label: '--plot', extra: [`${o.plot}.incomplete`] }, await collectInputs([o.config === undefined ? undefined : { path: o.config, label: '--config' }])));
  const subject = await loadSubject(o.config);
  const threads = ctx.globals.threads ?? availableParallelism();
  const kernels = withKernels ? { backend: await loadBackend(o.device), threads, repeat: o.repeat, heads: o.heads, seconds: o.timeBudget } : undefined;
  const progress = progressBar(ctx, kernels?.repeat ?? 1);
  let result: BenchResult;
  try {
    result = await runBench({
      subject: subject.arch,
      configLabel: subject.label,
      peers: withModel ? [...PEERS] : [],
      ctx: o.ctx,
      sweep: o.sweep,
      convention: o.convention,
      kernels,
      onProgress: progress.onProgress,
      signal: ctx.signal,
    });
    progress.finish();
  } finally {
    progress.stop();
  }
  const print = () => ctx.reporter.result(result, () => renderBench(result, withModel, o.wide ?? false));
  if (plot) {
    // the x axis spans the sweep the user asked for (e.g. the paper's 0–128K); by default it reaches --ctx too
    const max = o.sweepGiven ? Math.max(...o.sweep) : Math.max(...o.sweep, o.ctx);
    try {
      await renderVegaLite(generationChartSpec([subject.arch, ...PEERS], o.convention, max), plot.real);
    } catch (e) {
      print(); // the results first, then the plot's error
      throw e;
    }
    result.notes.push(`plot (modelled generation FLOPs) written to ${plot.path}`);
  }
  print();
}

function common(c: Command, model: boolean, kernels: boolean): Command {
  c.option('--ctx <tokens>', 'context length (e.g. 1000000, 128k, 1m; k = 1024)', tokens('--ctx'), 1_000_000)
    .option('--wide', `every column, every sweep length and unwrapped notes (default: fit ${DEFAULT_WIDTH} columns)`);
  if (model) {
    c.addOption(new Option('--sweep <list>', 'context lengths for the tables').argParser((v) => parseTokenList(v)).default(DEFAULT_SWEEP, '8k,32k,64k,100k,128k,1m'))
      .option('--convention <name>', 'physical (1 MAC = 2 FLOPs, matmul work only) or paper (reproduces the tech report Figure 1)', oneOf('--convention', ['physical', 'paper'] as const), 'physical')
      .option('--config <path>', 'config.json (or a checkpoint dir) of a MiniMax-M1-structured model (default: the released MiniMax-M1)')
      .option('--plot <out.svg|png>', 'write FLOPs vs generation length chart');
  }
  if (kernels) {
    c.option('--device <name>', 'cpu, cuda or auto', oneOf('--device', ['cpu', 'cuda', 'auto'] as const), 'auto')
      .option('--repeat <k>', 'repeat the timed kernels k times; report median and spread (bench compare uses the spread as its noise)', intArg('--repeat'), DEFAULT_REPEAT)
      .option('--heads <n>', 'heads in the streamed lightning prefill (default: max(2, threads))', intArg('--heads'))
      .option('--time-budget <seconds>', 'seconds per repeat for all timed kernels (longer prefills are extrapolated)', seconds, DEFAULT_KERNEL_SECONDS);
  }
  return c;
}

export function register(program: Command): void {
  const bench = program
    .command('bench')
    .description('what 1M-token context costs MiniMax-M1 (modelled, vs DeepSeek-R1 and Qwen3) and how fast this machine runs its attention kernels (measured)')
    .addHelpText(
      'after',
      () => `
Without a subcommand, runs \`bench run\` (options below): the analytic model, then the timed
kernels (${DEFAULT_REPEAT} repeats × ${DEFAULT_KERNEL_SECONDS} s, plus self-checks and the machine's ceilings;
under 2 minutes on 2 cores). Figures are labelled: modelled (formula), measured (timed here), derived
(measured × modelled), extrapolated (sampled, then scaled). The output leads with a one-line verdict
and fits ${DEFAULT_WIDTH} columns; --wide shows every column, sweep length and note.

Options of \`bench run\` (the default; also \`m1kit bench run --help\`):
${optionList(runCmd)}
Global options: --json (exactly one JSON document on stdout), -q/--quiet, -v/--verbose, --threads <n>

Examples:
  m1kit bench --ctx 1000000
  m1kit bench --json > run.json && m1kit bench compare baseline.json run.json --max-regression 10%
  m1kit bench flops --convention paper --sweep 8k,32k,64k,100k,128k --plot fig1.svg
  m1kit bench kernels --ctx 128k --repeat 3 --device cpu`,
    );

  const runCmd: Command = common(bench.command('run', { isDefault: true }), true, true);
  runCmd
    .description('(default) analytic model + timed kernels at --ctx')
    .option('--no-kernels', 'model only: skip the timed kernel run')
    .addHelpText('after', `\nExamples:\n  m1kit bench --ctx 1000000\n  m1kit bench --ctx 128k --repeat 3 --json > run.json`)
    .action(action('bench', async (ctx, o: Opts) => run(ctx, { ...o, sweepGiven: runCmd.getOptionValueSource('sweep') === 'cli' }, o.kernels !== false, true)));

  const flops: Command = common(bench.command('flops'), true, false);
  flops
    .description('analytic FLOPs and memory model only (no timing)')
    .addHelpText('after', `\nExamples:\n  m1kit bench flops --ctx 1m\n  m1kit bench flops --convention paper --plot fig1.png\n  m1kit bench flops --config fixtures/tiny --json`)
    .action(action('bench flops', async (ctx, o: Opts) => run(ctx, { ...o, sweepGiven: flops.getOptionValueSource('sweep') === 'cli', device: 'cpu', repeat: DEFAULT_REPEAT, timeBudget: DEFAULT_KERNEL_SECONDS }, false, true)));

  common(bench.command('kernels'), false, true)
    .description('timed lightning and softmax attention kernels at --ctx (self-checked first)')
    .addHelpText('after', `\nExamples:\n  m1kit bench kernels --ctx 1000000\n  m1kit bench kernels --ctx 64k --repeat 5 --json > kernels.json`)
    .action(action('bench kernels', async (ctx, o: Opts) => run(ctx, { ...o, sweep: [], convention: 'physical' }, true, false)));

  bench
    .command('compare')
    .description('regression gate: compare two `bench --json` results')
    .argument('<baseline>', 'baseline result (m1kit bench --json > baseline.json)')
    .argument('<run>', 'new result')
    .option('--max-regression <pct>', 'fail when a measured throughput drops by more than this', '10%')
    .addHelpText('after', `\nExit codes: 0 pass · 4 regression, missing metric or changed model figure · 3 unreadable or incomparable files.\n\nExample:\n  m1kit bench compare baseline.json run.json --max-regression 15%`)
    .action(
      action('bench compare', async (ctx, basePath: string, runPath: string, o: { maxRegression: string }) => {
        const pct = parsePercent(o.maxRegression);
        const report = compareResults(await readBenchResult(basePath), await readBenchResult(runPath), pct);
        const human = () => render([], [compareTable(report)], [...report.notes, report.passed ? 'PASS' : 'FAIL'], false);
        if (report.passed) return ctx.reporter.result(report, human);
        // A failed gate is an error (exit 4). With --json the error document alone is printed (one document).
        if (!ctx.globals.json) ctx.reporter.result(report, human);
        throw new VerificationError('E_REGRESSION', `regression gate failed (max ${pct}%): ${failureSummary(report)}`, { hint: failureHint(report) });
      }),
    );
}
