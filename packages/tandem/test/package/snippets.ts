import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The TypeScript blocks of README.md and docs/*.md, as files of the packed package's consumer
 * project, so that a block that stops compiling fails the suite.
 *
 * Every ```ts and ```tsx block is a module of its own (`snippets/<doc>/L<line>.ts`), type-checked
 * under `strict` and `exactOptionalPropertyTypes`. An HTML comment on the line before the
 * fence changes that:
 *
 * - `<!-- snippet: app/api/live/[...path]/route.ts -->` makes the block that file of a Next.js
 *   app, built by `next build` as well. The README's files are the consumer's app itself (its
 *   quick start is what the test serves to Chromium); another document's go under
 *   `app/snippets/<doc>/`, and their `@/…` imports of files the same document defines are
 *   pointed there.
 * - `<!-- snippet: skip (why) -->` leaves a block out (a fragment that cannot stand alone);
 *   the reason is required, and the skips are counted.
 *
 * What a block leaves to the app (its `Order` type, its `currentUser()`) is declared in
 * `snippets/app.d.ts` (fixtures), each entry saying it stands for the app's own code.
 */

export interface Snippet {
  /** The document, from the repository's root: `README.md`, `docs/react.md`. */
  doc: string;
  /** The line of the block's first line of code (1-based). */
  line: number;
  lang: 'ts' | 'tsx';
  code: string;
  /** The file of a Next.js app the block is (`app/…`, `lib/…`), or null for a module of its own. */
  path: string | null;
}

export interface Skipped {
  doc: string;
  line: number;
  reason: string;
}

export interface PlacedFile {
  /** Where it is written, from the consumer project's root. */
  file: string;
  snippet: Snippet;
  /** Built by `next build` too. */
  next: boolean;
}

const FENCE = /^(\s*)```(\w*)[^`]*$/;
const LANGS: Record<string, 'ts' | 'tsx'> = { ts: 'ts', typescript: 'ts', tsx: 'tsx' };
const ANNOTATION = /^\s*<!--\s*snippet:\s*(.*?)\s*-->\s*$/;
const SKIP = /^skip\s*\((.+)\)$/;
const PATH = /^[\w@.()[\]-]+(\/[\w@.()[\]-]+)*\.(tsx?)$/;

/** Reads the blocks of one document; a malformed annotation throws, naming its line. */
export function parseSnippets(markdown: string, doc: string): { snippets: Snippet[]; skipped: Skipped[] } {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  const skipped: Skipped[] = [];
  let annotation: { text: string; line: number } | null = null;
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index] ?? '';
    const fence = FENCE.exec(text);
    if (!fence) {
      const note = ANNOTATION.exec(text);
      if (note) annotation = { text: note[1] ?? '', line: index + 1 };
      else if (text.trim() !== '' && annotation) throw misplaced(doc, annotation.line);
      continue;
    }
    const indent = fence[1] ?? '';
    const lang = LANGS[fence[2] ?? ''];
    const start = index + 1;
    let end = start;
    while (end < lines.length && (lines[end] ?? '').trim() !== '```') end++;
    if (end === lines.length) throw new Error(`${doc}:${index + 1}: a code block that never ends`);
    index = end;
    if (!lang) {
      if (annotation) throw misplaced(doc, annotation.line);
      continue;
    }
    const code = lines
      .slice(start, end)
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n');
    const snippet: Snippet = { doc, line: start + 1, lang, code: `${code}\n`, path: null };
    if (annotation) {
      const skip = SKIP.exec(annotation.text);
      const path = PATH.exec(annotation.text);
      if (skip) {
        skipped.push({ doc, line: start + 1, reason: (skip[1] ?? '').trim() });
        annotation = null;
        continue;
      }
      if (!path || path[2] !== lang)
        throw new Error(
          `${doc}:${annotation.line}: "snippet: ${annotation.text}" is neither "skip (why)" nor a .${lang} file path`,
        );
      snippet.path = annotation.text;
      annotation = null;
    }
    snippets.push(snippet);
  }
  if (annotation) throw misplaced(doc, annotation.line);
  return { snippets, skipped };
}

function misplaced(doc: string, line: number): Error {
  return new Error(`${doc}:${line}: a snippet annotation must be followed by a \`\`\`ts or \`\`\`tsx block`);
}

/** `README.md` → `readme`, `docs/react.md` → `docs-react`. */
export function docSlug(doc: string): string {
  return doc
    .replace(/\.md$/i, '')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .toLowerCase();
}

/** Where each block is written in the consumer project (see the top of this file). */
export function placeSnippets(snippets: Snippet[]): PlacedFile[] {
  const placed: PlacedFile[] = [];
  const taken = new Map<string, Snippet>();
  for (const snippet of snippets) {
    const slug = docSlug(snippet.doc);
    let file: string;
    let code = snippet.code;
    if (snippet.path === null) {
      file = `snippets/${slug}/L${snippet.line}.${snippet.lang}`;
      code += 'export {};\n'; // a module even without imports, so blocks never share a scope
    } else if (snippet.doc === 'README.md') {
      file = snippet.path;
    } else {
      const root = `app/snippets/${slug}`;
      file = `${root}/${snippet.path}`;
      const own = new Set(
        snippets.filter((other) => other.doc === snippet.doc && other.path).map((other) => modulePath(other)),
      );
      code = code.replace(/(['"])@\/([^'"]+)\1/g, (whole, quote: string, target: string) =>
        own.has(target) ? `${quote}@/${root}/${target}${quote}` : whole,
      );
    }
    const previous = taken.get(file);
    if (previous)
      throw new Error(
        `${snippet.doc}:${snippet.line - 1}: ${file} is also the block at ${previous.doc}:${previous.line - 1}`,
      );
    taken.set(file, snippet);
    placed.push({ file, snippet: { ...snippet, code }, next: snippet.path !== null });
  }
  return placed;
}

/** `lib/hub.ts` → `lib/hub`, as an import names it. */
function modulePath(snippet: Snippet): string {
  return (snippet.path ?? '').replace(/\.tsx?$/, '');
}

/** README.md, the package's own README (the one in the tarball) and every docs/*.md, in that order. */
export function collectSnippets(root: string): { snippets: Snippet[]; skipped: Skipped[]; docs: string[] } {
  const docs = [
    'README.md',
    'packages/tandem/README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .sort()
      .map((name) => `docs/${name}`),
  ];
  const snippets: Snippet[] = [];
  const skipped: Skipped[] = [];
  for (const doc of docs) {
    const parsed = parseSnippets(readFileSync(join(root, doc), 'utf8'), doc);
    snippets.push(...parsed.snippets);
    skipped.push(...parsed.skipped);
  }
  return { snippets, skipped, docs };
}

/** Writes the blocks into the consumer project. */
export function writeSnippets(consumer: string, placed: PlacedFile[]): void {
  for (const { file, snippet } of placed) {
    mkdirSync(dirname(join(consumer, file)), { recursive: true });
    writeFileSync(join(consumer, file), snippet.code);
  }
}

/**
 * A tool's output with every position in a written block also given as the document's line:
 * `app/snippets/docs-react/lib/hub.ts(4,7)` or `./lib/hub.ts:4:7` gains `[docs/react.md:176:7]`.
 */
export function locateInDocs(output: string, placed: PlacedFile[]): string {
  let located = output;
  for (const { file, snippet } of placed) {
    const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Not inside a longer path: app/orders/page.tsx is also the end of app/snippets/…/app/orders/page.tsx.
    const position = new RegExp(
      `(?<![\\w./-])(?:\\./)?${escaped}(?:\\((\\d+),(\\d+)\\)|:(\\d+):(\\d+))`,
      'g',
    );
    located = located.replace(position, (whole, l1?: string, c1?: string, l2?: string, c2?: string) => {
      const line = Number(l1 ?? l2);
      return `${whole} [${snippet.doc}:${snippet.line + line - 1}:${c1 ?? c2}]`;
    });
  }
  return located;
}
