import { randomBytes } from 'node:crypto';
import type { Operator } from './kernel/operator.js';

// The demo's stand-in for the people at the table: each person's passphrase is random, held
// in memory for the run only, and never shown. Every confirmation is given.

export class DemoOperator implements Operator {
  private readonly passphrases = new Map<string, string>();

  async passphrase(name: string): Promise<string> {
    let p = this.passphrases.get(name);
    if (!p) {
      p = randomBytes(18).toString('base64');
      this.passphrases.set(name, p);
    }
    return p;
  }

  /** Everyone takes part in the demo. */
  passphraseIfPresent(name: string): Promise<string> {
    return this.passphrase(name);
  }

  async confirm(): Promise<'yes'> {
    return 'yes';
  }

  async progress<T>(_label: string, work: () => Promise<T>): Promise<T> {
    return work();
  }
}
