/** Relative Markdown links and the GitHub-style heading anchors they may point at. */

export interface DocLink {
  target: string;
  anchor: string | null;
  line: number;
}

/** Links to other files or anchors; external URLs and mail links are not ours to check. */
export function relativeLinks(markdown: string): DocLink[] {
  const links: DocLink[] = [];
  let inFence = false;
  markdown.split('\n').forEach((text, i) => {
    if (/^\s*```/.test(text)) inFence = !inFence;
    if (inFence) return;
    for (const m of text.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
      const href = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue;
      const [target, anchor] = href.split('#', 2) as [string, string | undefined];
      links.push({ target, anchor: anchor ?? null, line: i + 1 });
    }
  });
  return links;
}

/** The anchors GitHub generates for a file's headings (lower case, punctuation dropped, spaces to dashes, -1/-2 for repeats). */
export function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let inFence = false;
  for (const text of markdown.split('\n')) {
    if (/^\s*```/.test(text)) inFence = !inFence;
    const m = !inFence && /^#{1,6}\s+(.*)$/.exec(text);
    if (!m) continue;
    const base = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}
