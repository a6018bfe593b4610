// Preloaded with `node --import` into a child process: appends the URL of every module the
// process loads to the file named by KEYHOLD_MODULE_LOG, so a test can see which layers a
// command built (test/cli-layers.test.ts).
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const log = process.env.KEYHOLD_MODULE_LOG;
if (log) {
  registerHooks({
    load(url, context, nextLoad) {
      appendFileSync(log, `${url}\n`);
      return nextLoad(url, context);
    },
  });
}
