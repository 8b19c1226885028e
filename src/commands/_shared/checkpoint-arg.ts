/**
 * The checkpoint argument every command shares: a local path, or a repo id in the Hugging Face cache
 * (`--revision`, `--cache-dir`; HF_HUB_CACHE / HF_HOME as `download` uses). One place adds the options
 * and resolves the argument, so each command needs one line for each.
 */
import type { Command } from 'commander';
import { hubCacheDir } from '../../core/hub/env.js';
import { resolveCheckpoint } from '../../core/hub/resolve-checkpoint.js';
import type { CommandContext } from './action.js';

export interface CheckpointArgOptions {
  revision?: string;
  cacheDir?: string;
}

/** Add `--revision` and `--cache-dir` to a command that takes a checkpoint. */
export function checkpointOptions(cmd: Command): Command {
  return cmd
    .option('--revision <rev>', 'with a repo id: branch, tag or commit in the Hugging Face cache (default main; or write org/name@rev)')
    .option('--cache-dir <dir>', 'with a repo id: hub cache folder (default: $HF_HUB_CACHE or $HF_HOME/hub)');
}

/**
 * The path to open for a checkpoint argument; `o.revision` applies only when `useRevision` (the
 * command's main checkpoint, not e.g. a reference given with `--against`, which takes `org/name@rev`).
 * @example input = await checkpointPath(ctx, input, o)
 */
export async function checkpointPath(ctx: CommandContext, arg: string, o: CheckpointArgOptions, useRevision = true): Promise<string> {
  const cacheDir = o.cacheDir ?? hubCacheDir(process.env);
  const r = await resolveCheckpoint(arg, { cacheDir, ...(useRevision && o.revision !== undefined ? { revision: o.revision } : {}) });
  if (r.repo) ctx.reporter.debug(`${arg}: ${r.repo}@${r.revision} → ${r.path}`);
  else if (useRevision && o.revision !== undefined) ctx.reporter.warn(`${arg} is a local path: --revision ${o.revision} is ignored`);
  return r.path;
}
