import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { action, intArg, type CommandContext } from './_shared/action.js';
import { formatBytes, table, type Progress } from './_shared/reporter.js';
import { InterruptedError, M1kitError, UsageError, VerificationError } from '../core/errors.js';
import { downloadRepo, type DownloadDestination, type DownloadEvent, type DownloadSummary } from '../core/hub/download-repo.js';
import { hubSettings, redactToken } from '../core/hub/env.js';
import { isRepoId, revisionProblem } from '../core/hub/names.js';
import { plural } from '../core/hub/retry.js';
import { verifyDownload } from '../core/hub/verify-download.js';

interface Opts {
  revision: string; include?: string[]; exclude?: string[]; localDir?: string; cacheDir?: string; concurrency: number;
  endpoint?: string; dryRun: boolean; verify: boolean; retries: number; timeout: number; repair: boolean; forceDownload: boolean; wait: boolean;
}

/** One bar for the whole download (bytes, rate, ETA), the files in flight as its note. */
function progressView(ctx: CommandContext, maxAttempts: number): { onEvent: (e: DownloadEvent) => void; finish: () => void; stop: () => void } {
  const r = ctx.reporter;
  let check: Progress | undefined;
  let total: Progress | undefined;
  const inFlight = new Map<number, string>();
  let done = 0;
  let base = 0;
  const note = () => {
    const files = [...inFlight.values()];
    return files.length === 0 ? '' : `${files[0]}${files.length > 1 ? ` +${files.length - 1} more` : ''}`;
  };
  const onEvent = (e: DownloadEvent) => {
    if (e.type === 'plan') {
      check?.stop();
      r.debug(`commit ${e.commit}: ${plural(e.files.length, 'file')}, ${formatBytes(e.totalBytes)}, ${formatBytes(e.doneBytes)} already on disk`);
      done = base = e.doneBytes;
      // the bar counts what this run fetches, so its rate and ETA are this run's
      if (e.totalBytes > e.doneBytes) total = r.progress('download', e.totalBytes - base, 'bytes');
    } else if (e.type === 'start') {
      inFlight.set(e.slot, e.path);
      total?.update(done - base, note());
      r.debug(`start ${e.path} (${formatBytes(e.size)})`);
    } else if (e.type === 'bytes') {
      done += e.delta;
      total?.update(done - base, note());
    } else if (e.type === 'done') {
      inFlight.delete(e.slot);
      r.debug(`done ${e.path}`);
    }
    else if (e.type === 'resume') r.debug(`resume ${e.path} from byte ${e.from}`);
    else if (e.type === 'restart') r.warn(`${e.path}: restarting from byte 0 (${e.reason})`);
    else if (e.type === 'retry') r.warn(`${e.path}: ${e.reason}; attempt ${e.attempt + 1} of ${maxAttempts} in ${(e.delayMs / 1000).toFixed(1)} s`);
    else if (e.type === 'check') {
      check ??= r.progress('re-hash', e.totalBytes, 'bytes');
      check.update(e.doneBytes, e.path);
    } else if (e.type === 'wait') {
      if (e.first) r.warn(`${e.path}: waiting for ${e.holder}, which is downloading it (lock ${e.lock}); --no-wait fails instead`);
      else r.debug(`${e.path}: still waiting for ${e.holder} (${Math.round(e.waitedMs / 1000)} s)`);
    }
  };
  return { onEvent, finish: () => total?.finish(`fetched ${formatBytes(total.value())}`), stop: () => (check?.stop(), total?.stop()) };
}

/** The closing line: what was fetched, what was already there, and how what was there was checked. */
export function downloadSummaryLine(res: DownloadSummary): string {
  const t = res.totals;
  const head = `${res.repo}@${res.commit.slice(0, 12)}: ${t.downloadedFiles} downloaded${t.repairedFiles > 0 ? ` (${t.repairedFiles} repaired)` : ''}, ${t.presentFiles} already present (${formatBytes(t.bytes)})`;
  const how =
    res.presentCheck === 'none' ? 'listed from the cache, not checked (offline)'
    : res.verified ? 'every file hash/size verified'
    : `downloaded files hash/size verified; ${plural(t.presentFiles, 'file')} already present: size checked, not re-hashed (--repair re-hashes and fetches what fails)`;
  return `${head}; ${how}`;
}

async function run(ctx: CommandContext, target: string, o: Opts): Promise<void> {
  if (o.localDir && o.cacheDir) throw new UsageError('--local-dir and --cache-dir are exclusive');
  const env = hubSettings(process.env, { ...(o.endpoint ? { endpoint: o.endpoint } : {}), ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) });
  // with --verify, a directory written by --local-dir wins over a repo id that happens to look like its path
  const repoGiven = isRepoId(target) && !(o.verify && existsSync(join(target, '.cache', 'huggingface')));
  if (!repoGiven && !o.verify) throw new UsageError(`"${target}" is not a repository id (expected org/name, e.g. MiniMaxAI/MiniMax-M1-40k)`);
  const badRev = revisionProblem(o.revision);
  if (badRev !== undefined) throw new UsageError(`--revision "${o.revision}" is not a commit or a git ref name: ${badRev}`);
  if (o.verify && (o.repair || o.forceDownload)) throw new UsageError('--verify only checks; --repair and --force-download download');
  if (o.repair && o.forceDownload) throw new UsageError('--force-download fetches everything again; --repair is not needed with it');
  const localDir = o.localDir ?? (repoGiven ? undefined : target);
  const destination: DownloadDestination = localDir ? { kind: 'local', dir: localDir } : { kind: 'cache', cacheDir: env.cacheDir };
  const common = {
    endpoint: env.endpoint, destination, revision: o.revision, offline: env.offline, signal: ctx.signal,
    retry: { maxAttempts: o.retries }, ...(env.token ? { token: env.token } : {}),
    ...(o.include ? { include: o.include } : {}), ...(o.exclude ? { exclude: o.exclude } : {}),
  };
  ctx.reporter.debug(`endpoint ${env.endpoint}; ${destination.kind === 'cache' ? `cache ${env.cacheDir}` : `local dir ${localDir}`}; token ${env.token ? 'set' : 'not set'}`);
  if (o.verify) {
    const bar = ctx.reporter.progress('verify', 1, 'bytes');
    const res = await verifyDownload({ ...common, ...(repoGiven ? { repo: target } : {}), onProgress: (d, t, p) => (bar.setTotal(t), bar.update(d, p)) });
    const bad = res.files.filter((f) => f.status !== 'ok');
    if (bad.length > 0) {
      const list = bad.slice(0, 5).map((f) => `${f.path} (${f.status}${f.found ? `: found ${f.found}` : ''})`).join(', ');
      throw new VerificationError('E_VERIFY', `${bad.length} of ${res.files.length} files failed verification in ${res.path}: ${list}${bad.length > 5 ? ', …' : ''}`);
    }
    ctx.reporter.result({ mode: 'verify', ...res }, () => `${plural(res.files.length, 'file')} verified in ${res.path}${res.listingChecked ? ' (complete against the hub listing)' : ' against the hashes recorded at download (hub listing not checked: offline or no repo id)'}`);
    return;
  }
  const view = progressView(ctx, o.retries);
  let res: DownloadSummary;
  try {
    res = await downloadRepo({
      ...common, repo: target, concurrency: o.concurrency, ...(ctx.globals.threads ? { threads: ctx.globals.threads } : {}), dryRun: o.dryRun,
      stallTimeoutMs: o.timeout * 1000, repair: o.repair, forceDownload: o.forceDownload, waitForLock: o.wait, onEvent: view.onEvent,
    });
    view.finish();
  } catch (err) {
    view.stop();
    if (ctx.signal.aborted) throw new InterruptedError('interrupted: finished files are kept, partial ones are kept as .incomplete files', { hint: 'run the same command again to resume: finished files are not fetched again, partial ones continue where they stopped' });
    throw err;
  }
  ctx.reporter.result({ mode: 'download', ...res }, () => {
    if (res.dryRun) {
      const rows = res.files.map((f) => [f.path, formatBytes(f.size), f.status === 'present' ? 'present' : 'to download']);
      return `${table(['file', 'size', 'state'], rows)}\n${res.repo}@${res.commit}: ${plural(res.totals.files, 'file')}, ${formatBytes(res.totals.bytes)}; ${formatBytes(res.totals.bytesToFetch)} to fetch`;
    }
    return `${downloadSummaryLine(res)}\n${res.path}`;
  });
}

export function register(program: Command): void {
  program
    .command('download')
    .description('download a model repository (e.g. MiniMaxAI/MiniMax-M1-40k) into the Hugging Face cache: parallel, resumable, sha256-verified')
    .argument('<repo>', 'repository id org/name (with --verify: a repository id or a --local-dir directory)')
    .option('--revision <rev>', 'branch, tag or commit; resolved once to a commit', 'main')
    .option('--include <glob...>', 'only files matching a glob (fnmatch: * also matches /; "dir/" means everything under dir)')
    .option('--exclude <glob...>', 'skip files matching a glob')
    .option('--local-dir <dir>', 'write real files into <dir> instead of the cache')
    .option('--cache-dir <dir>', 'hub cache folder (default: $HF_HUB_CACHE or $HF_HOME/hub)')
    .option('--concurrency <n>', 'files downloaded at once', intArg('--concurrency'), 8)
    .option('--endpoint <url>', 'hub endpoint or mirror (default: $HF_ENDPOINT or https://huggingface.co)')
    .option('--dry-run', 'list what would be downloaded and how many bytes are missing', false)
    .option('--verify', 're-hash an existing download against the listing; downloads nothing', false)
    .option('--repair', 're-hash the files already in place (otherwise only their sizes are checked) and fetch again those that fail', false)
    .option('--force-download', 'fetch every file again, ignoring files in place and partial files', false)
    .option('--no-wait', 'fail at once (exit 3, naming the process) when another download holds a file, instead of waiting for it')
    .addOption(new Option('--retries <n>', 'attempts per request before giving up').argParser(intArg('--retries')).default(6))
    .addOption(new Option('--timeout <s>', 'retry a transfer that received no data for <s> seconds').argParser(intArg('--timeout')).default(60))
    .addHelpText(
      'after',
      `
Environment: HF_ENDPOINT (mirror, e.g. https://hf-mirror.com), HF_TOKEN (sent only to the endpoint's origin,
never printed), HF_HUB_CACHE / HF_HOME (cache location), HF_HUB_OFFLINE=1 (cache only, no network).
Interrupted downloads resume from blobs/<sha256>.incomplete; finished files are not fetched again (their
size is checked, not their hash: --repair re-hashes them). A second download into the same cache waits for
the files the first one is fetching (Ctrl-C stops waiting). Exit codes: 2 bad repo id or revision, 3 bad
local state (E_BUSY with --no-wait, E_DISK_FULL, E_PATH_TOO_LONG), 4 hash mismatch, 6 network or hub
(E_NETWORK after the retries, E_BAD_LISTING for an unsafe or inconsistent file list), 130 interrupted.

Examples:
  m1kit download MiniMaxAI/MiniMax-M1-40k
  HF_ENDPOINT=https://hf-mirror.com m1kit download MiniMaxAI/MiniMax-M1-80k --concurrency 16
  m1kit download MiniMaxAI/MiniMax-M1-40k --include '*.json' '*.py' --dry-run
  m1kit download MiniMaxAI/MiniMax-M1-40k --local-dir /data/m1-40k --exclude '*.md'
  m1kit download --verify MiniMaxAI/MiniMax-M1-40k --json
  m1kit download MiniMaxAI/MiniMax-M1-40k --repair      # re-hash what is there, fetch what fails`,
    )
    .action(
      action('download', async (ctx, target: string, o: Opts) => {
        const token = hubSettings(process.env, o.endpoint ? { endpoint: o.endpoint } : {}).token;
        try {
          await run(ctx, target, o);
        } catch (err) {
          // servers may echo request headers in error bodies: the token must not reach any output
          if (err instanceof Error) err.message = redactToken(err.message, token);
          if (err instanceof M1kitError && err.hint) (err as { hint?: string }).hint = redactToken(err.hint, token);
          if (err instanceof Error && err.stack) err.stack = redactToken(err.stack, token);
          throw err;
        }
      }),
    );
}
