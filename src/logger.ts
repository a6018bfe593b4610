// JSON logs (pino). Keyhold never logs request bodies, query strings or headers; the
// redaction list is a second line of defence for anything passed by mistake.
import { pino, type DestinationStream, type Logger } from 'pino';

/** A JSON logger; stdout unless another destination is given (the CLI uses stderr). */
export function createLogger(level: string, destination?: DestinationStream, service = 'keyhold'): Logger {
  const options = {
    level,
    base: { service },
    redact: {
      // `code` only at the top level: `err.code` (ECONNREFUSED…) is worth keeping.
      paths: ['password', '*.password', 'token', '*.token', 'code', 'secret', '*.secret', 'client_secret', '*.client_secret', 'authorization', '*.authorization', 'cookie', '*.cookie', 'headers.authorization', 'headers.cookie'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
