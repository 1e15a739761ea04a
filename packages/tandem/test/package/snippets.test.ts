import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './packed';
import { collectSnippets, docSlug, locateInDocs, parseSnippets, placeSnippets } from './snippets';

/**
 * How the docs' TypeScript blocks become files of the packed package's consumer; the files are
 * type-checked and built in package.test.ts.
 */

const DOC = [
  '# Title', // 1
  '', // 2
  '```sh', // 3
  'npm install', // 4
  '```', // 5
  '', // 6
  '```ts', // 7
  "const a: number = 'x';", // 8
  '```', // 9
  '', // 10
  '<!-- snippet: lib/hub.ts -->', // 11
  '```ts', // 12
  'export const hub = 1;', // 13
  '```', // 14
  '', // 15
  '<!-- snippet: skip (a shell session, not code) -->', // 16
  '', // 17
  '```tsx', // 18
  '$ npx tsx server.ts', // 19
  '```', // 20
  '', // 21
  '<!-- snippet: app/page.tsx -->', // 22
  '```tsx', // 23
  "import { hub } from '@/lib/hub';", // 24
  "import { currentUser } from '@/lib/auth';", // 25
  '```', // 26
].join('\n');

describe('the docs’ code blocks', () => {
  it('reads each ts and tsx block with the line of its first line of code, and skips what is marked so', () => {
    const { snippets, skipped } = parseSnippets(DOC, 'docs/guide.md');
    expect(snippets.map(({ line, lang, path }) => ({ line, lang, path }))).toEqual([
      { line: 8, lang: 'ts', path: null },
      { line: 13, lang: 'ts', path: 'lib/hub.ts' },
      { line: 24, lang: 'tsx', path: 'app/page.tsx' },
    ]);
    expect(snippets[0]?.code).toBe("const a: number = 'x';\n");
    expect(skipped).toEqual([{ doc: 'docs/guide.md', line: 19, reason: 'a shell session, not code' }]);
  });

  it('refuses a malformed annotation, naming the document and line', () => {
    expect(() => parseSnippets('<!-- snippet: skip -->\n```ts\nx\n```\n', 'README.md')).toThrow(
      /^README\.md:1: "snippet: skip" is neither/,
    );
    expect(() => parseSnippets('<!-- snippet: app/page.ts -->\n```tsx\nx\n```\n', 'README.md')).toThrow(
      /^README\.md:1: .* a \.tsx file path/,
    );
    expect(() => parseSnippets('<!-- snippet: lib/a.ts -->\ntext\n```ts\nx\n```\n', 'docs/a.md')).toThrow(
      /^docs\/a\.md:1: a snippet annotation must be followed by/,
    );
    expect(() => parseSnippets('```ts\nnever closed\n', 'docs/a.md')).toThrow(/^docs\/a\.md:1: a code block/);
  });

  it('makes the README’s files the app, puts another document’s under its own folder, and modules of their own elsewhere', () => {
    const readme = parseSnippets(DOC, 'README.md').snippets;
    const guide = parseSnippets(DOC, 'docs/guide.md').snippets;
    const placed = placeSnippets([...readme, ...guide]);
    expect(placed.map(({ file, next }) => ({ file, next }))).toEqual([
      { file: 'snippets/readme/L8.ts', next: false },
      { file: 'lib/hub.ts', next: true },
      { file: 'app/page.tsx', next: true },
      { file: 'snippets/docs-guide/L8.ts', next: false },
      { file: 'app/snippets/docs-guide/lib/hub.ts', next: true },
      { file: 'app/snippets/docs-guide/app/page.tsx', next: true },
    ]);
    // A module of its own never shares a scope with another block.
    expect(placed[0]?.snippet.code).toBe("const a: number = 'x';\nexport {};\n");
    // The document's own lib/hub is pointed to its folder; the app's lib/auth is left as it is.
    expect(placed[5]?.snippet.code).toBe(
      "import { hub } from '@/app/snippets/docs-guide/lib/hub';\nimport { currentUser } from '@/lib/auth';\n",
    );
    expect(docSlug('docs/deploy.md')).toBe('docs-deploy');
  });

  it('refuses two blocks of one document that are the same file', () => {
    const twice = '<!-- snippet: lib/a.ts -->\n```ts\nx\n```\n\n<!-- snippet: lib/a.ts -->\n```ts\ny\n```\n';
    expect(() => placeSnippets(parseSnippets(twice, 'docs/a.md').snippets)).toThrow(
      'docs/a.md:7: app/snippets/docs-a/lib/a.ts is also the block at docs/a.md:2',
    );
  });

  it('names the document’s line beside every position tsc or next build reports in a block', () => {
    const placed = placeSnippets([
      ...parseSnippets(DOC, 'docs/guide.md').snippets,
      ...parseSnippets(DOC, 'README.md').snippets,
    ]);
    const tsc =
      "snippets/docs-guide/L8.ts(1,7): error TS2322: Type 'string' is not assignable to type 'number'.";
    expect(locateInDocs(tsc, placed)).toBe(
      "snippets/docs-guide/L8.ts(1,7) [docs/guide.md:8:7]: error TS2322: Type 'string' is not assignable to type 'number'.",
    );
    const next = './app/snippets/docs-guide/app/page.tsx:2:10\nType error: Module has no exported member.';
    expect(locateInDocs(next, placed)).toBe(
      './app/snippets/docs-guide/app/page.tsx:2:10 [docs/guide.md:25:10]\nType error: Module has no exported member.',
    );
    // The README's app/page.tsx ends that path too, but is another file.
    const both = 'app/snippets/docs-guide/app/page.tsx(2,10): error\n./app/page.tsx:1:1';
    expect(locateInDocs(both, placed)).toBe(
      'app/snippets/docs-guide/app/page.tsx(2,10) [docs/guide.md:25:10]: error\n./app/page.tsx:1:1 [README.md:24:1]',
    );
  });

  it('finds every block of README.md and docs/, each annotation well formed', () => {
    const { snippets, skipped, docs } = collectSnippets(ROOT);
    expect(docs).toContain('README.md');
    expect(docs).toContain('docs/react.md');
    // Every fence that opens a TypeScript block is read: none is lost to a spelling the parser misses.
    const fences = docs.flatMap((doc) =>
      [...readFileSync(join(ROOT, doc), 'utf8').matchAll(/^\s*```(ts|tsx|typescript)\b/gm)].map(() => doc),
    );
    expect(snippets.length + skipped.length).toBe(fences.length);
    expect(fences.length).toBeGreaterThan(30);
    expect(() => placeSnippets(snippets)).not.toThrow();
    expect(
      snippets.filter((snippet) => snippet.doc === 'README.md' && snippet.path).map((s) => s.path),
    ).toEqual(
      expect.arrayContaining(['lib/hub.ts', 'app/api/live/[...path]/route.ts', 'app/orders/page.tsx']),
    );
  });
});
