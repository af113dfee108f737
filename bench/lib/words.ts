/**
 * A vocabulary with a realistic shape for the search benchmark: the most frequent English
 * words first (function words that the `english` text-search configuration drops as
 * stopwords, then common content words), followed by a long tail of pronounceable made-up
 * words. Words are drawn by Zipf's law (frequency ∝ 1/rank), as in natural-language text.
 * Deterministic: the same seed gives the same words, so runs are comparable.
 */

/** Roughly the 120 most frequent English words, in frequency order. */
export const COMMON_ENGLISH = (
  'the of and to a in is it you that he was for on are with as his they be at one have this from or had by not ' +
  'word but what some we can out other were all there when up use your how said an each she which do their time ' +
  'if will way about many then them write would like so these her long make thing see him two has look more day ' +
  'could go come did number sound no most people my over know water than call first who may down side been now ' +
  'find any new work part take get place made live where after back little only round man year came show every good ' +
  'me give our under name very through just form sentence great think say help low line differ turn cause much mean'
).split(' ');

const ONSETS = ['b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'br', 'ch', 'cl', 'dr', 'fl', 'gr', 'pl', 'pr', 'sh', 'st', 'str', 'th', 'tr'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'ee', 'oo', 'ou', 'y'];
const CODAS = ['', '', '', 'n', 'r', 's', 'l', 't', 'nd', 'st', 'ck', 'ng', 'rm', 'x'];

/** mulberry32: a tiny seeded PRNG, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

/** `size` distinct lower-case words, most frequent first. */
export function vocabulary(size: number, seed = 20240917): string[] {
  const words = COMMON_ENGLISH.slice(0, size);
  const seen = new Set(words);
  const rnd = prng(seed);
  while (words.length < size) {
    // Mostly two syllables, as in English: 1 (25%), 2 (55%), 3 (20%).
    const u = rnd();
    const syllables = u < 0.25 ? 1 : u < 0.8 ? 2 : 3;
    let w = '';
    for (let i = 0; i < syllables; i++) w += pick(rnd, ONSETS) + pick(rnd, VOWELS) + (i === syllables - 1 || rnd() < 0.25 ? pick(rnd, CODAS) : '');
    if (w.length < 3 || w.length > 11 || seen.has(w)) continue;
    seen.add(w);
    words.push(w);
  }
  return words;
}

/**
 * Zipf rank as the database draws it: floor(exp(u · ln(V+1))) for uniform u, so
 * P(rank = k) = ln((k+1)/k) / ln(V+1) ≈ 1 / (k · ln V). Exposed to keep the SQL and the
 * expected-frequency arithmetic in one place.
 */
export function zipfRankSql(vocabularySize: number, uniform = 'random()'): string {
  return `least(${vocabularySize}, floor(exp(${uniform} * ln(${vocabularySize + 1})))::int)`;
}

/** Probability that one drawn word has rank `k` (see zipfRankSql). */
export function zipfProbability(k: number, vocabularySize: number): number {
  return Math.log((k + 1) / k) / Math.log(vocabularySize + 1);
}

/**
 * A one-letter typo in the last letter ("rostrus" → "rostrux"). It changes two of the word's
 * n+1 trigrams, so a word of six letters or more stays above pg_trgm's default
 * word-similarity threshold (0.6), as a fuzzy search should find it.
 */
export function misspell(word: string): string {
  const last = word.at(-1) ?? '';
  return word.slice(0, -1) + (last === 'x' ? 's' : 'x');
}

/** The middle of a word, `length` letters long: the kind of fragment a user types into a substring search. */
export function fragment(word: string, length = 4): string {
  if (word.length <= length) return word;
  const start = Math.floor((word.length - length) / 2);
  return word.slice(start, start + length);
}
