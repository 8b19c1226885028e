/**
 * m1kit command-line entry: builds the commander program, registers one command per file, and maps
 * parse errors to exit code 2 — reported like every other error (one line with the code, or exactly one
 * JSON document under --json). Command errors are mapped in run.ts.
 */
import { Command, CommanderError, Option } from 'commander';
import { createRequire } from 'node:module';
import { ExitCode, M1kitError, UsageError } from '../core/errors.js';
import { commands, selectedCommand } from '../commands/index.js';
import type { ActionRunner } from '../commands/_shared/action.js';
import { Reporter, type GlobalOptions } from '../commands/_shared/reporter.js';
import { runAction } from './run.js';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string };

/** Build the program; only the command `argv` selects is loaded, the rest are listed for --help. */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const runner: ActionRunner = { runAction };
  const program = Object.assign(new Command('m1kit'), runner)
    .description('Toolkit for MiniMax-M1 checkpoints: download, inspect, convert, quantize, verify, bench.')
    .version(pkg.version, '-V, --version')
    .option('--json', 'print exactly one JSON document on stdout (logs and progress go to stderr)', false)
    .option('-q, --quiet', 'print nothing but errors (and the --json document when asked for)', false)
    .option('-v, --verbose', 'more detail, and stack traces on errors', false)
    .addOption(
      new Option('--threads <n>', 'worker threads for native kernels (default: all cores)').argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new M1kitError('E_USAGE', ExitCode.usage, `--threads expects an integer ≥ 1, got "${v}"`);
        return n;
      }),
    )
    // parse errors are reported by main() (one line with the code, or the --json document), not here
    .configureOutput({ outputError: () => {} })
    .addHelpText(
      'after',
      `
Without a command, m1kit prints this help (exit 0).
Exit codes: 0 ok · 1 internal error · 2 usage · 3 bad input · 4 verification failed · 5 native/device unavailable · 6 network · 130 interrupted

Examples:
  m1kit bench --ctx 1000000
  m1kit inspect fixtures/tiny --json
  m1kit fixture /tmp/m1-small --preset small --shards 4`,
    );
  const selected = selectedCommand(argv);
  for (const c of commands) {
    if (c.name === selected) (await c.load()).register(program);
    else program.command(c.name).summary(c.summary).description(c.summary).allowUnknownOption().allowExcessArguments();
  }
  // every (sub)command throws instead of exiting, so main() maps usage errors to exit code 2
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  return program;
}

/** The global flags as written in argv (for errors raised before or while commander parses them). */
export function globalsFromArgv(argv: string[]): GlobalOptions {
  const end = argv.indexOf('--');
  const args = end < 0 ? argv.slice(2) : argv.slice(2, end);
  return { json: args.includes('--json'), quiet: args.includes('-q') || args.includes('--quiet'), verbose: args.includes('-v') || args.includes('--verbose') };
}

/** A parse error as a typed usage error: commander's own, or one an option parser threw. */
function usageErrorOf(err: unknown, command: string | undefined): M1kitError | undefined {
  if (err instanceof M1kitError) return err;
  if (err instanceof CommanderError) {
    const help = command ? `m1kit ${command} --help` : 'm1kit --help';
    return new UsageError(err.message.replace(/^error:\s*/, ''), { hint: `run "${help}" for usage` });
  }
  return undefined;
}

export async function main(argv: string[]): Promise<void> {
  // `m1kit … | head` closes stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(ExitCode.ok);
    throw e;
  });
  const selected = selectedCommand(argv);
  const command = commands.some((c) => c.name === selected) ? selected : undefined;
  const globals = globalsFromArgv(argv);
  const program = await buildProgram(argv);
  const asksHelpOrVersion = argv.slice(2).some((a) => ['-h', '--help', '-V', '--version'].includes(a));
  if (selected === undefined && !asksHelpOrVersion) {
    // no command: the help, as documented (exit 0); under --json a usage error document instead
    if (globals.json) {
      new Reporter('m1kit', globals).error({ code: 'E_USAGE', message: 'no command given', hint: 'run "m1kit --help" for the commands' });
      process.exitCode = ExitCode.usage;
    } else {
      program.outputHelp();
    }
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // help and version are "errors" with exit code 0 under exitOverride
    if (err instanceof CommanderError && err.exitCode === 0) return void (process.exitCode = ExitCode.ok);
    const usage = usageErrorOf(err, command);
    if (!usage) throw err;
    new Reporter(command ?? 'm1kit', globals).error(usage);
    process.exitCode = err instanceof CommanderError ? ExitCode.usage : usage.exitCode;
  }
}
