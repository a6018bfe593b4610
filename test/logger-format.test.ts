// Logs for a person in development on a terminal (pino-pretty), JSON everywhere else, and
// LOG_FORMAT overrides either way. The pretty logger still redacts secrets.
import { Writable } from 'node:stream';
import test from 'ava';
import { wantsPrettyLogs } from '#src/logger.ts';

test('auto is pretty only in development on a terminal', (t) => {
  t.true(wantsPrettyLogs('auto', 'development', true));
  t.false(wantsPrettyLogs('auto', 'development', false), 'piped to a collector');
  t.false(wantsPrettyLogs('auto', 'production', true));
  t.false(wantsPrettyLogs('auto', 'test', true));
  t.true(wantsPrettyLogs('pretty', 'production', false));
  t.false(wantsPrettyLogs('json', 'development', true));
});

test('pretty lines keep the redaction', async (t) => {
  const { default: pretty } = await import('pino-pretty');
  const { createLogger } = await import('#src/logger.ts');
  let text = '';
  const sink = new Writable({ write: (chunk, _encoding, done) => ((text += String(chunk)), done()) });
  const logger = createLogger('info', pretty({ colorize: false, destination: sink, sync: true }));
  logger.info({ password: 'hunter2-secret', client_secret: 'shh-value' }, 'signed in');
  t.regex(text, /signed in/);
  t.false(text.includes('hunter2-secret'));
  t.false(text.includes('shh-value'));
  t.false(text.trimStart().startsWith('{'), 'not JSON');
});
