/**
 * How a command's action runs in the process: builds the Reporter from the global options, wires
 * SIGINT/SIGTERM to the command's AbortSignal, and maps errors to documented exit codes (with main.ts,
 * the only place that sets one). Commands describe their work with `action()`
 * (commands/_shared/action.ts); the program built by main.ts runs it through `runAction`.
 */
import type { Command } from 'commander';
import { ExitCode, M1kitError } from '../core/errors.js';
import type { ActionFn, CommandContext } from '../commands/_shared/action.js';
import { Reporter } from '../commands/_shared/reporter.js';

/**
 * After SIGINT/SIGTERM the command gets this long to stop at its next abort check and clean up (keeping
 * finished, resumable work; it then exits 130). If it has not ended by then, an operation that cannot
 * observe the AbortSignal is pending (an open() or read() waiting on a pipe nobody writes to), which
 * would also keep process.exit() waiting for its thread: the signal is re-raised with its default
 * action instead, so the process ends at once (shell status 128 + signal: 130 for SIGINT, 143 for SIGTERM).
 */
export const SIGNAL_GRACE_MS = 1500;

/** Translate Node system errors that reach the CLI into typed errors with an exit code. */
export function classifyError(err: unknown): M1kitError | undefined {
  if (err instanceof M1kitError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e && typeof e.code === 'string') {
    const where = e.path ? `${e.path}: ` : '';
    switch (e.code) {
      case 'ENOENT':
        return new M1kitError('E_NOT_FOUND', ExitCode.badInput, `${where}no such file or directory`);
      case 'EISDIR':
      case 'ENOTDIR':
        return new M1kitError('E_BAD_PATH', ExitCode.badInput, `${where}${e.code === 'EISDIR' ? 'is a directory' : 'not a directory'}`);
      case 'EACCES':
      case 'EPERM':
        return new M1kitError('E_PERMISSION', ExitCode.badInput, `${where}permission denied`);
      case 'EROFS':
        return new M1kitError('E_READ_ONLY', ExitCode.badInput, `${where}read-only file system`);
      case 'ENOSPC':
      case 'EDQUOT':
        return new M1kitError('E_DISK_FULL', ExitCode.badInput, `${where}no space left on device`, {
          hint: 'free disk space and run the same command again; finished files are kept',
        });
      case 'ABORT_ERR':
        return new M1kitError('E_INTERRUPTED', ExitCode.interrupted, 'interrupted');
    }
  }
  return undefined;
}

export function globalsOf(cmd: Command): CommandContext['globals'] {
  const o = cmd.optsWithGlobals() as Record<string, unknown>;
  const g: CommandContext['globals'] = { json: Boolean(o.json), quiet: Boolean(o.quiet), verbose: Boolean(o.verbose) };
  if (typeof o.threads === 'number') g.threads = o.threads;
  return g;
}

/** End the process now by `signal`'s default action (works even while a thread-pool operation is stuck). */
function endBySignal(signal: NodeJS.Signals): void {
  process.removeAllListeners(signal); // libuv restores the default disposition with the last listener
  process.kill(process.pid, signal);
}

/** Run command `name`'s action `fn` on commander's arguments (the last one is the Command). */
export async function runAction(name: string, fn: ActionFn, args: any[]): Promise<void> {
  const cmd = args[args.length - 1] as Command;
  const globals = globalsOf(cmd);
  const reporter = new Reporter(name, globals);
  const ac = new AbortController();
  const interrupted = () => new M1kitError('E_INTERRUPTED', ExitCode.interrupted, 'interrupted');
  const onSigint = (signal: NodeJS.Signals) => {
    if (ac.signal.aborted) return endBySignal(signal);
    ac.abort();
    setTimeout(() => {
      reporter.error(interrupted());
      endBySignal(signal);
    }, SIGNAL_GRACE_MS).unref();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    const code = await fn({ reporter, signal: ac.signal, globals }, ...args.slice(0, -1));
    if (typeof code === 'number') process.exitCode = code;
    if (ac.signal.aborted) throw new M1kitError('E_INTERRUPTED', ExitCode.interrupted, 'interrupted');
  } catch (err) {
    const known = classifyError(err) ?? (ac.signal.aborted ? new M1kitError('E_INTERRUPTED', ExitCode.interrupted, 'interrupted') : undefined);
    if (known) {
      reporter.error(known, (err as Error).stack);
      process.exitCode = known.exitCode;
    } else {
      const e = err as Error;
      reporter.error({ code: 'E_INTERNAL', message: `internal error: ${e?.message ?? String(err)}`, hint: 'this is a bug in m1kit; please report it with the output of --verbose' });
      process.stderr.write(`${e?.stack ?? String(err)}\n`);
      process.exitCode = ExitCode.internal;
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    // a pending grace timer stays (unref'd): an operation that ignored the abort must not keep the process alive
  }
}
