import { BIN } from '../test/support/cli.js';
import { ms, paired, QUICK, row, runChild, type Row } from './table.js';
import { benchWorkspace, keyriteSync } from './workspace.js';

// Cold start: a new `keyrite` process, from exec to exit, beside `node -e 0` started the same
// way. `key list` runs on the bench workspace with its verified-state memo in place (warmed by
// one untimed run), as an operator's second command finds it. Target (issue 13): ≤ 2×.

const TARGET = 2;
const node0 = () => runChild(process.execPath, ['-e', '0']);

export async function rows(): Promise<Row[]> {
  const runs = QUICK ? 5 : 15;
  const { tw } = await benchWorkspace(QUICK ? 2 : 3);
  const version = () => runChild(process.execPath, [BIN, '--version']);
  version();
  const [v, floorV] = await paired(runs, version, node0);
  keyriteSync(tw, ['key', 'list', '--json']);
  const [list, floorL] = await paired(runs, () => keyriteSync(tw, ['key', 'list', '--json']), node0);
  const floor = (value: number) => ({ ...ms(value), what: 'node -e 0' });
  return [
    row('keyrite --version cold start', ms(v), floor(floorV), TARGET, 'lower', `median of ${runs} child processes each, interleaved`),
    row('keyrite key list cold start', ms(list), floor(floorL), TARGET, 'lower', `workspace with ${(await benchWorkspace(0)).keyIds.length} keys; memo warm`),
  ];
}
