import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Workspace } from '../../fs/workspace.js';
import { run, type DemoOptions } from '../context.js';

// keyrite demo: the whole lifecycle, unattended, in a temporary workspace (or the one named
// with --workspace, which is then kept).

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the custody lifecycle unattended in a temporary workspace (demo passphrases are random and discarded)')
    .action(
      run<DemoOptions>(async (_o, ctx) => {
        const { runDemo } = await import('../../ceremony/demo.js');
        const keep = ctx.workspaceGiven;
        const ws = keep ? ctx.ws : new Workspace(join(mkdtempSync(join(tmpdir(), 'keyrite-demo-')), 'workspace'));
        const started = Date.now();
        try {
          const report = await runDemo(ws, ctx.json ? undefined : (s) => process.stdout.write(`✓ ${s.step}: ${s.detail}\n`));
          const seconds = (Date.now() - started) / 1000;
          return {
            data: { ...report, seconds, kept: keep },
            lines: [
              `Demo done in ${seconds.toFixed(1)} s.`,
              keep ? `The workspace is kept at ${ws.root} (its demo passphrases were random and are gone).` : 'The temporary workspace was removed.',
            ],
          };
        } finally {
          if (!keep) rmSync(join(ws.root, '..'), { recursive: true, force: true });
        }
      }),
    );
}
