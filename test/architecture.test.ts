import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The layers of docs/ARCHITECTURE.md: each module imports only from its own layer or the ones
// below it, and no module depends on itself at run time through a chain of imports. Type-only
// imports count for the layer order (they still couple a layer to the one above) but not for
// cycles (they vanish from the built code).

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const LAYERS = ['base', 'fs', 'engine', 'state', 'custody', 'evidence', 'audit', 'node', 'ceremony', 'cli'];

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

// Static imports and re-exports (`import … from`, `export … from`, `import '…'`) and dynamic `import('…')`.
const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

function edgesOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const from = relative(SRC, file);
  return [...text.matchAll(IMPORT)].map((m) => {
    const spec = (m[3] ?? m[4])!;
    const to = relative(SRC, resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    return { from, to, typeOnly: m[2] !== undefined };
  });
}

const layerOf = (path: string): number => LAYERS.indexOf(path.split('/')[0]!);
const edges = sources(SRC).flatMap(edgesOf);

test('every module is in a layer, and every import goes to the same layer or one below', () => {
  const files = sources(SRC).map((f) => relative(SRC, f));
  assert.deepEqual(files.filter((f) => layerOf(f) < 0), [], 'modules outside the layers');
  const upward = edges.filter((e) => layerOf(e.to) > layerOf(e.from)).map((e) => `${e.from} → ${e.to}`);
  assert.deepEqual(upward, []);
});

test('no runtime import cycle', () => {
  const graph = new Map<string, string[]>();
  for (const e of edges.filter((x) => !x.typeOnly)) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (node: string, path: string[]): void => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      cycles.push([...path.slice(path.indexOf(node)), node].join(' → '));
      return;
    }
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node, []);
  assert.deepEqual(cycles, []);
});

test('the import parser sees the kinds of import the code uses', () => {
  // Guards the test above against a regex that silently matches nothing.
  assert.ok(edges.some((e) => e.typeOnly), 'type-only imports');
  assert.ok(edges.some((e) => !e.typeOnly && e.from.startsWith('cli/') && e.to.startsWith('ceremony/')), 'dynamic imports from the CLI');
  assert.ok(edges.length > 200, `only ${edges.length} imports found`);
});
