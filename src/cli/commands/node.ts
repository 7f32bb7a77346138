import type { Command } from 'commander';
import { RUN_LIFETIME_MS } from '../../node/lifetime.js';
import { run, type NodeServeOptions } from '../context.js';
import { cliUsage } from '../hints.js';
import { parseCount } from '../inputs.js';

// keyrite node serve: one signing node over HTTP on loopback, until interrupted; keygen,
// export and sign reach it with --nodes.

/** Resolves when the process is asked to stop. */
function untilInterrupted(): Promise<void> {
  return new Promise<void>((done) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done());
  });
}

export function register(program: Command): void {
  const node = program.command('node').description('signing nodes');
  node
    .command('serve')
    .description('serve one signing node over HTTP on the loopback interface until interrupted')
    .requiredOption('--node <id>', 'the node (node-1 … node-n)')
    .requiredOption('--listen <host:port>', 'loopback address to listen on (port 0: any free port)')
    .option('--home <dir>', "the node's own directory: its identity, encrypted shares and session log (default: nodes/<id>/ in the workspace)")
    .option('--run-timeout <seconds>', `abort a protocol run, wiping its share and nonces, after this long (default ${RUN_LIFETIME_MS / 1000})`, parseCount)
    .action(
      run<NodeServeOptions>(async (o, ctx) => {
        const { parseListen, serveNode } = await import('../../node/http-server.js');
        if (o.runTimeout === 0) throw cliUsage('--run-timeout must be at least 1 second');
        const serving = await serveNode(ctx.ws, o.node, parseListen(o.listen), { home: o.home, runLifetimeMs: o.runTimeout === undefined ? undefined : o.runTimeout * 1000 });
        // The bound address goes to stderr at once: stdout is kept for the one final result.
        process.stderr.write(`${o.node} listening on ${serving.url}\n`);
        await untilInterrupted();
        await serving.close();
        return { data: { node: o.node, url: serving.url, stopped: true }, lines: [`${o.node} stopped.`] };
      }),
    );
}
