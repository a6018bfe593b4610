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

/** Whether the server's logs are for a person (coloured lines) or for a collector (JSON). */
export function wantsPrettyLogs(format: 'auto' | 'json' | 'pretty', nodeEnv: string, isTerminal = Boolean(process.stdout.isTTY)): boolean {
  return format === 'pretty' || (format === 'auto' && nodeEnv === 'development' && isTerminal);
}

/** The server's logger: JSON, or pino-pretty's lines in development (loaded only then). */
export async function createServerLogger(config: { LOG_LEVEL: string; LOG_FORMAT: 'auto' | 'json' | 'pretty'; NODE_ENV: string }): Promise<Logger> {
  if (!wantsPrettyLogs(config.LOG_FORMAT, config.NODE_ENV)) return createLogger(config.LOG_LEVEL);
  const { default: pretty } = await import('pino-pretty');
  return createLogger(config.LOG_LEVEL, pretty({ colorize: Boolean(process.stdout.isTTY), ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss', sync: true }));
}
