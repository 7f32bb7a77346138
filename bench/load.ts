import { abuseUntil, loadRig } from '../test/support/load.js';
import { rssKiB } from '../test/support/serve.js';
import { perSecond, QUICK, row, timed, type Figure, type Row } from './table.js';

// The node server under load (issue 13, item 4), on the load test's rig (test/support/load.ts:
// three served nodes, whole runs through the HttpNode client): signing runs on different keys at
// once beside the same runs one after another, and the growth of a node's memory while deeply
// nested and oversize requests hit it during the runs, beside its resident size before. The
// issue sets no target for either; the load test (test/node/load.test.ts) asserts the outcomes.

const mib = (kib: number): Figure => ({ value: kib / 1024, unit: 'MiB' });

export async function rows(): Promise<Row[]> {
  const keys = QUICK ? 2 : 4;
  const rounds = QUICK ? 1 : 3;
  const rig = await loadRig(keys);
  try {
    await rig.signRun(rig.keyIds[0]!, 'warm-up');
    const [together] = await timed(async () => {
      for (let r = 0; r < rounds; r++) await Promise.all(rig.keyIds.map((k) => rig.signRun(k, `together-${r}`)));
    });
    const [apart] = await timed(async () => {
      for (let r = 0; r < rounds; r++) for (const k of rig.keyIds) await rig.signRun(k, `apart-${r}`);
    });
    const runs = rounds * keys;
    const target = rig.servers[0]!;
    const before = rssKiB(target.child.pid!);
    let attacked!: () => void;
    const abuse = abuseUntil(target.url, new Promise<void>((done) => (attacked = done)));
    try {
      for (let r = 0; r < rounds; r++) await Promise.all(rig.keyIds.map((k) => rig.signRun(k, `attacked-${r}`)));
    } finally {
      attacked();
      await abuse;
    }
    const grown = Math.max(0, rssKiB(target.child.pid!) - before);
    await rig.holdsNothing();
    return [
      row(`node serve under load: signing runs/s, ${keys} keys at once`, perSecond((1000 * runs) / together), { ...perSecond((1000 * runs) / apart), what: 'the same runs one after another' }, null, 'higher', `${runs} whole runs over HTTP; every signature checked`),
      row('node serve under load: RSS growth under nested and oversize requests', mib(grown), { ...mib(before), what: 'the node\'s RSS before' }, null, 'lower', `${runs} runs signed while the requests were refused`),
    ];
  } finally {
    rig.stop(); // the rig's workspace is a tempDir(), removed when the bench exits
  }
}
