/**
 * m1kit command-line entry: builds the commander program, registers one command per file, and maps
 * parse errors to exit code 2. Command errors are mapped in action.ts.
 */
import { Command, CommanderError, Option } from 'commander';
import { createRequire } from 'node:module';
import { ExitCode, M1kitError } from '../core/errors.js';
import { commands, selectedCommand } from '../commands/index.js';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string };

/** Build the program; only the command `argv` selects is loaded, the rest are listed for --help. */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('m1kit')
    .description('Toolkit for MiniMax-M1 checkpoints: download, inspect, convert, quantize, verify, bench.')
    .version(pkg.version, '-V, --version')
    .option('--json', 'print exactly one JSON document on stdout (logs and progress go to stderr)', false)
    .option('-q, --quiet', 'no progress bars or informational messages', false)
    .option('-v, --verbose', 'more detail, and stack traces on errors', false)
    .addOption(
      new Option('--threads <n>', 'worker threads for native kernels (default: all cores)').argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new M1kitError('E_USAGE', ExitCode.usage, `--threads expects an integer ≥ 1, got "${v}"`);
        return n;
      }),
    )
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
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

export async function main(argv: string[]): Promise<void> {
  // `m1kit … | head` closes stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(ExitCode.ok);
    throw e;
  });
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" with exit code 0 under exitOverride
      process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      return;
    }
    if (err instanceof M1kitError) {
      process.stderr.write(`m1kit: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}
