import type { Command } from 'commander';
import type { NodeConnector } from '../ceremony/kernel/nodes.js';
import { usageError } from '../base/errors.js';
import { RUN_LIFETIME_MS } from '../node/lifetime.js';
import { parseCount } from './inputs.js';
import { run } from './main.js';

/** `--nodes node-1=http://127.0.0.1:P1,node-2=…`: reach the nodes over HTTP instead of in-process. */
export function parseNodes(value: string): NodeConnector {
  const urls = new Map<string, string>();
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const [id, url] = [item.slice(0, eq), item.slice(eq + 1)];
    if (eq < 1 || !/^http:\/\/[^/]+$/.test(url)) throw usageError(`--nodes expects NODE=http://HOST:PORT,…; got "${item}"`);
    if (urls.has(id)) throw usageError(`--nodes names ${id} twice`);
    urls.set(id, url);
  }
  // The HTTP client loads only when a node is first reached, so parsing the flag stays cheap.
  return async (id, caller, state) => (await import('../ceremony/kernel/nodes.js')).overHttp(urls)(id, caller, state);
}

export const NODES_HELP = 'reach the nodes over HTTP (node-1=http://127.0.0.1:P1,…) instead of in-process';

export function register(program: Command): void {
  const node = program.command('node').description('signing nodes');
  node
    .command('serve')
    .description('serve one signing node over HTTP on the loopback interface until interrupted')
    .requiredOption('--node <id>', 'the node (node-1 … node-n)')
    .requiredOption('--listen <host:port>', 'loopback address to listen on (port 0: any free port)')
    .option('--run-timeout <seconds>', `abort a protocol run, wiping its share and nonces, after this long (default ${RUN_LIFETIME_MS / 1000})`, parseCount)
    .action(
      run(async (o, ctx) => {
        const { parseListen, serveNode } = await import('../node/http-server.js');
        if (o.runTimeout === 0) throw usageError('--run-timeout must be at least 1 second');
        const serving = await serveNode(ctx.ws, o.node, parseListen(o.listen), { runLifetimeMs: o.runTimeout === undefined ? undefined : o.runTimeout * 1000 });
        // The bound address goes to stderr at once: stdout is kept for the one final result.
        process.stderr.write(`${o.node} listening on ${serving.url}\n`);
        await new Promise<void>((done) => {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done());
        });
        await serving.close();
        return { data: { node: o.node, url: serving.url, stopped: true }, lines: [`${o.node} stopped.`] };
      }),
    );
}
