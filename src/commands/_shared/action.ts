/**
 * A command's action as commander calls it: the command describes its work as `fn(ctx, ...args)` and
 * gets a CommandContext (reporter, AbortSignal, global options); the program it is registered on runs it
 * (signals, error reporting and exit codes belong to the entry, cli/run.ts). Plus the option parsers
 * every command shares.
 */
import type { Command } from 'commander';
import { ExitCode, M1kitError } from '../../core/errors.js';
import { parseCount, parsePercent } from '../../core/units.js';
import type { GlobalOptions, Reporter } from './reporter.js';

export interface CommandContext {
  reporter: Reporter;
  signal: AbortSignal;
  globals: GlobalOptions & { threads?: number };
}

/** A command action; it may return an exit code (e.g. ExitCode.verification after printing its result). */
export type ActionFn = (ctx: CommandContext, ...args: any[]) => Promise<void | number>;

/** A program that knows how to run command actions (the one cli/main.ts builds). */
export interface ActionRunner {
  runAction(name: string, fn: ActionFn, args: any[]): Promise<void>;
}

/** Build a commander action handler for command `name`; the root program runs it. */
export function action(name: string, fn: ActionFn): (...args: any[]) => Promise<void> {
  return async (...args: any[]) => {
    let root = args[args.length - 1] as Command;
    while (root.parent) root = root.parent;
    const runner = root as Command & Partial<ActionRunner>;
    if (typeof runner.runAction !== 'function') throw new Error(`m1kit ${name}: registered on a program that cannot run commands (build it with buildProgram)`);
    await runner.runAction(name, fn, args);
  };
}

/** Parse a positive integer option (commander argParser). */
export function intArg(name: string, min = 1): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      throw new M1kitError('E_USAGE', ExitCode.usage, `${name} expects an integer ≥ ${min}, got "${v}"`);
    }
    return n;
  };
}

/** Parse a count option with the shared parser: "300", "8k" (8,192), "1m" (2^20) (commander argParser). */
export const countArg = (name: string) => (v: string): number => parseCount(v, name);

/** Parse a percentage option with the shared parser: "99%" or "99" (commander argParser). */
export const percentArg = (name: string) => (v: string): number => parsePercent(v, name);
