// Each node re-reads the key set every KEY_RELOAD_INTERVAL seconds, so a rotation made on
// any node (or by the CLI) reaches every engine; the engine host rebuilds the engine when
// the set changed.
import type { Logger } from 'pino';
import type { ProcessSettings } from '#src/config.ts';
import { every, type Job } from '#src/jobs/job.ts';
import type { EngineHost } from '#src/oidc/engine-host.ts';

export function startSigningKeyReload(deps: { engine: Pick<EngineHost, 'reload'>; config: Pick<ProcessSettings, 'KEY_RELOAD_INTERVAL'>; logger: Logger }): Job {
  return every('signing key reload', deps.config.KEY_RELOAD_INTERVAL * 1000, () => deps.engine.reload(), deps.logger);
}
