import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * The package's floors and what each may import. A folder imports another only through that
 * folder's `index.ts` (`'../protocol'`, never `'../protocol/cursor'`), and only downward.
 */
export const FLOORS: Record<string, readonly string[]> = {
  protocol: [],
  broker: ['protocol'],
  server: ['protocol', 'broker'],
  redis: ['protocol', 'broker'],
  postgres: ['protocol', 'broker'],
  jwt: ['protocol', 'server'],
  prometheus: ['protocol', 'server'],
  client: ['protocol'],
  react: ['protocol', 'client'],
  cli: ['protocol', 'broker', 'server', 'redis', 'postgres', 'jwt', 'prometheus'],
  testing: ['protocol', 'broker'],
};

/** Packages a floor may import at run time (type-only imports are free). Node built-ins: `node:*`. */
export const PACKAGES: Record<string, readonly string[]> = {
  protocol: [],
  broker: [],
  server: ['node:http', 'node:net', 'node:buffer'],
  redis: ['redis', 'node:crypto'],
  postgres: ['pg'],
  jwt: ['jose'],
  prometheus: ['prom-client'],
  client: [],
  react: ['react'],
  cli: ['node:http', 'node:crypto'],
  testing: [],
};

/** Only these files of `server` may use Node's built-ins: the rest runs on any Fetch-API runtime. */
export const NODE_ONLY_FILES = new Set(['server/node-adapter.ts', 'server/node-sinks.ts']);

export interface SourceFile {
  /** Path relative to `src`, with `/` separators: `server/hub.ts`. */
  path: string;
  text: string;
}

export function readSources(srcDir: string): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.tsx?$/.test(entry.name)) {
        out.push({ path: relative(srcDir, full).split(sep).join('/'), text: readFileSync(full, 'utf8') });
      }
    }
  };
  walk(srcDir);
  return out;
}

const IMPORT =
  /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

interface ImportRef {
  specifier: string;
  typeOnly: boolean;
  line: number;
}

export function importsOf(text: string): ImportRef[] {
  const refs: ImportRef[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[3] ?? match[4];
    if (!specifier) continue;
    const line = text.slice(0, match.index).split('\n').length;
    refs.push({ specifier, typeOnly: match[2] !== undefined, line });
  }
  return refs;
}

/** Every broken rule, as `file:line: message`; empty when the layout holds. */
export function layoutViolations(files: readonly SourceFile[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const [floor, ...rest] = file.path.split('/');
    if (!floor || rest.length === 0) {
      problems.push(`${file.path}: every source file belongs to a floor folder`);
      continue;
    }
    const allowed = FLOORS[floor];
    if (!allowed) {
      problems.push(`${file.path}: unknown floor '${floor}' (add it to FLOORS with what it may import)`);
      continue;
    }
    for (const ref of importsOf(file.text)) {
      const where = `${file.path}:${ref.line}`;
      if (ref.specifier.startsWith('.')) {
        const target = resolveFloor(floor, rest.length, ref.specifier);
        if (target === null) {
          problems.push(`${where}: '${ref.specifier}' leaves src`);
        } else if (target.floor !== floor) {
          if (!allowed.includes(target.floor)) {
            problems.push(`${where}: ${floor} may not import ${target.floor} ('${ref.specifier}')`);
          } else if (target.inner !== '') {
            problems.push(`${where}: '${ref.specifier}' reaches past ${target.floor}/index.ts`);
          }
        }
        continue;
      }
      if (ref.typeOnly) continue;
      const name = packageName(ref.specifier);
      if (name.startsWith('node:') && !NODE_ONLY_FILES.has(file.path) && floor === 'server') {
        problems.push(`${where}: ${name} outside the Node adapter ties the server core to Node`);
      } else if (!(PACKAGES[floor] ?? []).includes(name)) {
        problems.push(`${where}: ${floor} may not load '${name}' at run time`);
      }
    }
  }
  return problems;
}

function packageName(specifier: string): string {
  if (specifier.startsWith('node:')) return specifier;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** The floor a relative import lands in, and the path inside it ('' for its index). */
function resolveFloor(
  floor: string,
  depth: number,
  specifier: string,
): { floor: string; inner: string } | null {
  const stack = [floor, ...Array.from({ length: depth - 1 }, () => '_')];
  for (const part of specifier.split('/')) {
    if (part === '.' || part === '') continue;
    if (part === '..') {
      if (stack.length === 0) return null;
      stack.pop();
    } else stack.push(part);
  }
  const [target, ...inner] = stack;
  if (!target) return null;
  const rest = inner.join('/').replace(/\.(ts|tsx|js)$/, '');
  return { floor: target, inner: rest === 'index' ? '' : rest };
}
