// Runs every (case × command) of the hostile-input corpus in this one process, through the built CLI's
// main() (dist/), so that hundreds of runs cost milliseconds each instead of a Node start-up each.
// Usage: node --expose-gc test/e2e/hostile-corpus-runner.mjs <plan.json> <results.jsonl>
// plan: { cases: [{ name, dir }], commands: [{ id, argv: [...] with "{in}" / "{out}" placeholders, output: the path
// it writes ("{out}…") }], outRoot, limitMs }
// Each result line: { case, command, exitCode, stdout, stderr, ms, rssPeak, inputChanged, outputs, error? }
import { appendFileSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const [planFile, resultsFile] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
const { main } = await import(fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url)));
process.stdout.setMaxListeners(0);

/** Content identity of every entry under `dir` (regular files hashed; links, FIFOs, devices by kind/target). */
function fingerprint(dir) {
  const out = {};
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `link:${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel] = 'dir';
        walk(p);
      } else if (st.isFile()) {
        // sparse over-size files are hashed by size and head only (they are never read by m1kit)
        out[rel] = st.size > 32 * 1024 * 1024 ? `big:${st.size}:${st.mtimeMs}` : createHash('sha256').update(readFileSync(p)).digest('hex');
      } else out[rel] = `special:${st.mode}`;
    }
  };
  walk(dir);
  return out;
}

/** Files under an output path (a directory, a file, or nothing). */
function listOutputs(p) {
  let st;
  try {
    st = statSync(p);
  } catch {
    return [];
  }
  if (!st.isDirectory()) return ['.'];
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const q = join(d, name);
      if (statSync(q).isDirectory()) walk(q);
      else out.push(relative(p, q));
    }
  };
  walk(p);
  return out;
}

const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);
let n = 0;
for (const c of plan.cases) {
  for (const cmd of plan.commands) {
    const out = join(plan.outRoot, `${n++}`);
    mkdirSync(plan.outRoot, { recursive: true });
    const argv = cmd.argv.map((a) => a.replaceAll('{in}', c.dir).replaceAll('{out}', out));
    const before = fingerprint(c.dir);
    let stdout = '';
    let stderr = '';
    process.stdout.write = (s, ...rest) => ((stdout += String(s)), typeof rest.at(-1) === 'function' && rest.at(-1)(), true);
    process.stderr.write = (s, ...rest) => ((stderr += String(s)), typeof rest.at(-1) === 'function' && rest.at(-1)(), true);
    globalThis.gc?.();
    let rssPeak = process.memoryUsage.rss();
    const poll = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 5);
    const watchdog = setTimeout(() => {
      process.stdout.write = realOut;
      process.stderr.write = realErr;
      appendFileSync(resultsFile, JSON.stringify({ case: c.name, command: cmd.id, timedOut: true, ms: plan.limitMs, stderr }) + '\n');
      process.exit(3);
    }, plan.limitMs);
    process.exitCode = undefined;
    const t0 = performance.now();
    let error;
    try {
      await main(['node', 'm1kit', ...argv]);
    } catch (e) {
      error = String(e?.stack ?? e);
    }
    const ms = performance.now() - t0;
    clearTimeout(watchdog);
    clearInterval(poll);
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    const exitCode = process.exitCode ?? 0;
    process.exitCode = undefined;
    const after = fingerprint(c.dir);
    const inputChanged = JSON.stringify(before) !== JSON.stringify(after);
    const outputs = listOutputs((cmd.output ?? '{out}').replaceAll('{out}', out));
    appendFileSync(resultsFile, JSON.stringify({ case: c.name, command: cmd.id, exitCode, stdout: stdout.slice(0, 2000), stderr: stderr.slice(0, 4000), ms, rssPeak, inputChanged, outputs: outputs.slice(0, 50), ...(error ? { error } : {}) }) + '\n');
  }
}
appendFileSync(resultsFile, JSON.stringify({ done: true, maxRssKiB: process.resourceUsage().maxRSS }) + '\n');
process.exit(0);
