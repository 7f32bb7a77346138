// npm run bench: speed targets live here, not in timed tests. Each module prints its own table.
const modules = ['./engine.ts', './ecdsa.ts', './audit.ts', './fold.ts'];

for (const m of modules) {
  const { run } = (await import(m)) as { run: () => Promise<void> };
  console.log(`\n== ${m.replace(/^\.\/|\.ts$/g, '')}`);
  await run();
}
