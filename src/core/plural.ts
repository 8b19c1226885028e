/** Counted nouns for human output: count(1, 'file') → "1 file", count(3, 'file') → "3 files". */

/** Irregular plurals of the nouns m1kit prints. */
const IRREGULAR: Record<string, string> = { entry: 'entries', this: 'these', is: 'are', was: 'were' };

/** The plural of a noun phrase: the last word takes the plural ("output file" → "output files"). */
export function plural(noun: string): string {
  const m = /^(.*?)(\w+)$/.exec(noun);
  if (!m) return noun;
  const [, head, last] = m as unknown as [string, string, string];
  if (IRREGULAR[last]) return head + IRREGULAR[last];
  if (/(s|x|z|ch|sh)$/.test(last)) return `${noun}es`;
  if (/[^aeiou]y$/.test(last)) return `${head}${last.slice(0, -1)}ies`;
  return `${noun}s`;
}

/** "1 file", "0 files", "1,024 tensors". */
export function count(n: number, noun: string, pluralForm?: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : (pluralForm ?? plural(noun))}`;
}
