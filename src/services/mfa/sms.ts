// Where SMS codes leave Keyhold. Two providers behind one interface: `webhook` POSTs
// `{ to, message, type }` as JSON to SMS_WEBHOOK_URL, signed like Keyhold's webhooks
// (`Keyhold-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`) so the
// receiving gateway can refuse forgeries; `log` (development) writes each message to a
// private file under DATA_DIR/sms and logs only where, never the code.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ProcessSettings } from '#src/config.ts';
import { KeyholdError } from '#src/errors.ts';
import { webhookSignature } from '#src/services/webhooks.ts';
import { ensurePrivateDirectory } from '#src/stores/data-dir.ts';

export interface SmsSender {
  /** Sends one text; throws sms_failed when the provider refuses or cannot be reached. */
  send(to: string, message: string): Promise<void>;
}

const WEBHOOK_TIMEOUT_MS = 10_000;

export function createSmsSender(config: Pick<ProcessSettings, 'SMS_PROVIDER' | 'SMS_WEBHOOK_URL' | 'SMS_WEBHOOK_SECRET' | 'DATA_DIR'>, logger: Logger): SmsSender {
  if (config.SMS_PROVIDER === 'webhook') {
    return {
      async send(to, message) {
        const body = JSON.stringify({ id: randomUUID(), type: 'sms', to, message });
        let response: Response;
        try {
          response = await fetch(config.SMS_WEBHOOK_URL!, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'keyhold-signature': webhookSignature(config.SMS_WEBHOOK_SECRET!, Math.floor(Date.now() / 1000), body) },
            body,
            redirect: 'error',
            signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
          });
          await response.body?.cancel();
        } catch (error) {
          logger.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, 'sms webhook unreachable');
          throw new KeyholdError('sms_failed');
        }
        if (!response.ok) {
          logger.warn({ status: response.status }, 'sms webhook refused the message');
          throw new KeyholdError('sms_failed');
        }
      },
    };
  }
  const directory = path.resolve(config.DATA_DIR, 'sms');
  return {
    async send(to, message) {
      ensurePrivateDirectory(directory, (details, text) => logger.warn(details, text));
      const file = path.join(directory, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.txt`);
      await writeFile(file, `To: ${to}\n\n${message}\n`, { mode: 0o600 });
      logger.info({ file }, 'sms written to file (SMS_PROVIDER=log)');
    },
  };
}
