import { sha256Hex } from '../base/canonical.js';
import { shown } from '../base/errors.js';
import { getEngine } from '../engine/index.js';
import type { KeyRecord } from '../state/key-record.js';

// What makes a recorded signature one the key's custodians asked for (docs/ARCHITECTURE.md §1
// step 4, §6): before sign.result, the ceremony's sign.intent, and a sign.request from at least
// t distinct custodians who hold parties of the key, each naming the intent's key, epoch, message
// digest, signers and session; the nodes are exactly those custodians' nodes; and the signature
// verifies under the key's public key over the message the intent carries. A generator alone,
// or a signature nobody asked for, fails here however well its lines are signed.

const FIELDS = ['keyId', 'epoch', 'messageDigest', 'signers', 'sessionId'] as const;

type Params = Record<string, unknown>;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export class SignRules {
  private intent: Params | undefined;
  private readonly requests = new Map<string, Params>(); // custodian → params

  constructor(private readonly keyOf: (keyId: string) => KeyRecord | undefined) {}

  intended(params: Params): string | null {
    if (this.intent) return 'a second sign.intent in one ceremony';
    this.intent = params;
    return null;
  }

  requested(custodian: string, params: Params): string | null {
    if (this.requests.has(custodian)) return `${custodian} signed a second sign.request`;
    this.requests.set(custodian, params);
    return null;
  }

  /** Null when sign.result is backed by the intent and t custodians' requests; else why not. */
  result(params: Params, result: Params): string | null {
    const intent = this.intent;
    if (!intent) return 'sign.result without a sign.intent before it';
    for (const k of ['keyId', 'epoch', 'messageDigest', 'sessionId', 'nodes'] as const) {
      if (!same(params[k], intent[k])) return `sign.result's ${k} ${shown(params[k])} is not the intent's ${shown(intent[k])}`;
    }
    const r = typeof intent.keyId === 'string' ? this.keyOf(intent.keyId) : undefined;
    if (!r) return `sign.intent names key ${shown(intent.keyId)}, which the history does not hold`;
    if (r.status !== 'active') return `sign.result for key ${r.keyId}, which is ${r.status}: a retired or compromised key never signs again`;
    if (intent.epoch !== r.epoch) return `sign.result for key ${r.keyId} at epoch ${shown(intent.epoch)}, but the key is at epoch ${r.epoch}: shares of an older epoch never sign`;
    const asking = [...this.requests].filter(([, q]) => FIELDS.every((k) => same(q[k], intent[k]))).map(([c]) => c);
    const parties = r.parties.filter((p) => asking.includes(p.custodian));
    if (parties.length < r.threshold) return `sign.result for key ${r.keyId} is backed by ${parties.length} custodians' requests (${asking.join(', ') || 'none'}); the key needs ${r.threshold}`;
    if (!same(intent.signers, parties.map((p) => p.custodian))) return `sign.intent's signers ${shown(intent.signers)} are not the custodians who asked, in party order`;
    if (!same(intent.nodes, parties.map((p) => p.node))) return `sign.intent's nodes ${shown(intent.nodes)} are not the asking custodians' nodes`;
    return this.signatureProblem(r, intent, result.signature);
  }

  /** The signature over the message the intent carries (intents before keyrite recorded the message are checked for everything else). */
  private signatureProblem(r: KeyRecord, intent: Params, signature: unknown): string | null {
    if (intent.message === undefined) return null;
    if (typeof intent.message !== 'string' || !/^([0-9a-f]{2})*$/.test(intent.message)) return 'sign.intent\'s message is not hex';
    const message = Buffer.from(intent.message, 'hex');
    if (sha256Hex(message) !== intent.messageDigest) return 'sign.intent\'s message does not have its message digest';
    if (typeof signature !== 'string' || !getEngine(r.engine).verify(r.publicKey, message, signature)) return `the signature in sign.result does not verify under key ${r.keyId}`;
    return null;
  }
}
