import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Memory readings mean little with garbage of earlier work still around; `--expose-gc` is switched on here
// so `npm run bench` needs no extra node flag.
setFlagsFromString('--expose-gc');

/** Runs a full garbage collection, so the next memory reading counts live objects only. */
export const collectGarbage = runInNewContext('gc') as () => void;
