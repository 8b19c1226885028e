/**
 * --include / --exclude matching with the semantics of `hf download` (fnmatch.fnmatchcase):
 * case-sensitive, `*` and `?` also match `/`, `[seq]` / `[!seq]` classes, and a pattern ending in `/`
 * means everything under that folder.
 */

function translate(pattern: string): RegExp {
  const p = pattern.endsWith('/') ? `${pattern}*` : pattern;
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = p.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let body = p.slice(i + 1, close);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** True when `path` matches the fnmatch-style `pattern`. */
export function globMatch(pattern: string, path: string): boolean {
  return translate(pattern).test(path);
}

/**
 * Keep the paths matching any include pattern (all when none given) and no exclude pattern.
 * @example filterPaths(files, { include: ['*.json'], exclude: [] }, (f) => f.path)
 */
export function filterPaths<T>(items: T[], f: { include?: string[]; exclude?: string[] }, pathOf: (t: T) => string): T[] {
  const inc = (f.include ?? []).map(translate);
  const exc = (f.exclude ?? []).map(translate);
  return items.filter((it) => {
    const p = pathOf(it);
    if (inc.length > 0 && !inc.some((r) => r.test(p))) return false;
    return !exc.some((r) => r.test(p));
  });
}
