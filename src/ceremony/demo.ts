import { join } from 'node:path';
import type { Workspace } from '../fs/workspace.js';
import { FAST_WORK_FACTOR } from '../custody/age.js';
import { DEFAULT_POLICY } from '../transcript/roster.js';
import { setupCustodian } from './custodian-setup.js';
import { DemoOperator } from './demo-operator.js';
import { enrolPerson } from './enrol.js';
import { checkGuardianShare } from './guardian-check.js';
import { releaseGuardianShare } from './guardian-release.js';
import { initWorkspace } from './init.js';
import { completeRecovery, startRecovery } from './recover-custodian.js';

// The whole lifecycle, unattended, in a workspace of its own: what the README's first command
// runs. Each step is the same ceremony code the commands use, with the demo operator.

export interface DemoStep {
  step: string;
  detail: string;
}

export interface DemoReport {
  workspace: string;
  steps: DemoStep[];
  recovered: { custodian: string; recipient: string; guardians: string[] };
}

const CUSTODIANS = ['alice', 'bob', 'carol'];
const GUARDIANS: Record<string, string[]> = {
  alice: ['ana', 'arun', 'ayla', 'amir', 'aiko'],
  bob: ['bea', 'bram', 'bilal', 'bo', 'bianca'],
  carol: ['cai', 'chen', 'cleo', 'cyrus', 'cora'],
};

export async function runDemo(ws: Workspace, onStep: (s: DemoStep) => void = () => undefined): Promise<DemoReport> {
  const operator = new DemoOperator();
  const logN = FAST_WORK_FACTOR;
  const steps: DemoStep[] = [];
  const record = (step: string, detail: string) => {
    const s = { step, detail };
    steps.push(s);
    onStep(s);
  };

  const init = await initWorkspace({ ws, policy: DEFAULT_POLICY, generator: 'generator', operator, logN });
  record('init', `workspace with ${init.nodes.length} nodes; generator ${init.generator.fingerprint.slice(0, 16)}`);
  for (const c of CUSTODIANS) await enrolPerson({ ws, name: c, role: 'custodian', operator, logN });
  for (const g of Object.values(GUARDIANS).flat()) await enrolPerson({ ws, name: g, role: 'guardian', operator, logN });
  await enrolPerson({ ws, name: 'wanda', role: 'witness', operator, logN });
  record('enrol', `custodians ${CUSTODIANS.join(', ')}; 15 guardians; witness wanda`);

  for (const c of CUSTODIANS) {
    const r = await setupCustodian({ ws, custodian: c, guardians: GUARDIANS[c]!, k: DEFAULT_POLICY.guardianThreshold, operator });
    record('custodian setup', `${c}'s age key split ${r.k}-of-${r.m} among ${GUARDIANS[c]!.join(', ')}`);
  }
  for (const g of GUARDIANS.alice!) await checkGuardianShare({ ws, guardian: g, custodian: 'alice', operator });
  record('guardian check', `alice's five guardians each opened their share`);

  // alice loses her identity: three of her guardians release to a one-off recipient.
  const request = await startRecovery({ ws, custodian: 'alice', operator, logN });
  const released = new Map<string, string>();
  for (const g of ['ana', 'ayla', 'aiko']) {
    const r = await releaseGuardianShare({ ws, guardian: g, custodian: 'alice', session: request.session, to: request.recipient, operator });
    released.set(g, r.path);
  }
  const out = join(ws.holdingsDir('alice'), `recovered-${request.session}`);
  const rec = await completeRecovery({ ws, custodian: 'alice', operator, logN, out, session: request.session, released });
  record('recover custodian', `alice's age key rebuilt from ${rec.guardians.join(', ')}; new identity ${rec.pub.fingerprint.slice(0, 16)}`);
  return { workspace: ws.root, steps, recovered: { custodian: 'alice', recipient: rec.pub.recipient, guardians: rec.guardians } };
}
