import type { Command } from 'commander';
import { KeyriteError } from '../../base/errors.js';
import { MAX_MESSAGE_BYTES } from '../../base/limits.js';
import { readBytes } from '../../fs/workspace.js';
import { run, type SignOptions } from '../context.js';
import { digestLines, sealData, sealLines } from '../format/common.js';
import { cliUsage } from '../hints.js';
import { collectNamed, collectRepeated, NODES_HELP, parseNodes } from '../inputs.js';

// keyrite sign: a just-in-time threshold signature over raw message bytes (docs/ARCHITECTURE.md §1 step 4, §7).

function readMessage({ messageFile, messageHex }: Pick<SignOptions, 'messageFile' | 'messageHex'>): Uint8Array {
  if (messageHex && !messageFile) {
    if (!/^([0-9a-f]{2})+$/i.test(messageHex)) throw cliUsage('--message-hex must be an even number of hex digits');
    if (messageHex.length > 2 * MAX_MESSAGE_BYTES) throw new KeyriteError('TOO_LARGE', `the message is larger than the ${MAX_MESSAGE_BYTES} bytes keyrite signs`);
    return Buffer.from(messageHex, 'hex');
  }
  if (!messageFile || messageHex) throw cliUsage('give exactly one of --message-file or --message-hex', 'MISSING_INPUT');
  // Capped before anyone is asked to unlock anything: a message over the cap is refused at once.
  return readBytes(messageFile, 'the message file', MAX_MESSAGE_BYTES);
}

export function register(program: Command): void {
  program
    .command('sign')
    .description('sign a message just in time: custodians open their shards, their nodes sign and forget')
    .requiredOption('--key <keyId>', 'the key')
    .requiredOption('--signer <name>', 'a signing custodian (repeat for each)', collectRepeated)
    .option('--message-file <path>', 'the raw message bytes')
    .option('--message-hex <hex>', 'the raw message, hex (bip340 and ecdsa: 32 bytes, e.g. a sighash or transaction hash)')
    .option('--nodes <node=url,...>', NODES_HELP, parseNodes)
    .option('--shard <name=path>', 'a custodian\'s shard, if not at its standard path', collectNamed)
    .option('--identity <name=path>', 'an identity file not at its standard path (generator, custodians); repeat for each', collectNamed)
    .action(
      run<SignOptions>(async (o, ctx) => {
        const { signMessage } = await import('../../ceremony/sign.js');
        const message = readMessage(o);
        const r = await signMessage({ ws: ctx.ws, keyId: o.key, signers: o.signer, message, shards: o.shard, identities: o.identity, operator: ctx.operator, connect: o.nodes });
        const { recoverableParts } = await import('../../engine/index.js');
        // ecdsa: r, s and the recovery id v as well, the form Ethereum and most wallets take.
        const parts = r.engine === 'ecdsa' ? recoverableParts(r.signature) : {};
        return {
          data: { keyId: r.keyId, engine: r.engine, publicKey: r.publicKey, signature: r.signature, ...parts, message: Buffer.from(message).toString('hex'), messageDigest: r.messageDigest, signers: r.signers, nodes: r.nodes, receipts: r.receipts, ...sealData(r.sealed) },
          lines: [
            `Signed with key ${r.keyId} (${r.engine}) by ${r.signers.join(', ')} on ${r.nodes.join(', ')}; the signature verifies.`,
            ...digestLines('message sha256', r.messageDigest),
            `signature: ${r.signature}`,
            'Each node attested that it holds nothing for this key.',
            ...r.receipts.map((x) => `Receipt for ${x.signer}: ${x.file} (keep it; "keyrite audit verify --receipt" checks this ceremony is still in the history).`),
            ...sealLines(r.sealed),
          ],
        };
      }),
    );
}
