// JSON logs (pino). Keyhold never logs request bodies, query strings or headers; the
// redaction list is a second line of defence for anything passed by mistake.
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'keyhold' },
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'code', '*.code', 'secret', '*.secret', 'client_secret', '*.client_secret', 'authorization', '*.authorization', 'cookie', '*.cookie', 'headers.authorization', 'headers.cookie'],
      censor: '[redacted]',
    },
  });
}
