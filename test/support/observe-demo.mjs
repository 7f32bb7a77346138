// Loaded with `node --import` before the real CLI runs `keyrite demo`: records each passphrase the
// demo operator makes up (src/ceremony/demo-operator.ts keeps them in memory only) to the file named
// by KEYRITE_OBSERVE_PASSPHRASES, outside every directory the hygiene test scans, so that the test
// can open what the demo locked with them. It changes nothing the demo does.
import { appendFileSync } from 'node:fs';

const { DemoOperator } = await import(new URL('../../dist/ceremony/demo-operator.js', import.meta.url).href);
const made = DemoOperator.prototype.passphrase;
const seen = new Set();
DemoOperator.prototype.passphrase = async function (name, ...rest) {
  const p = await made.call(this, name, ...rest);
  if (!seen.has(`${name}\n${p}`)) {
    seen.add(`${name}\n${p}`);
    appendFileSync(process.env.KEYRITE_OBSERVE_PASSPHRASES, JSON.stringify({ name, passphrase: p }) + '\n', { mode: 0o600 });
  }
  return p;
};
