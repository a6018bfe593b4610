// The CLI reads its configuration as the server does (`.env`, then the environment), and
// warns on stderr about names that look misspelled; stdout stays the command's JSON.
import { loadConfig, loadEnvFile, settingWarnings, type Config } from '#src/config.ts';

export function loadCliConfig(): Config {
  loadEnvFile();
  const config = loadConfig();
  for (const warning of settingWarnings()) process.stderr.write(`keyhold: warning: ${warning}\n`);
  return config;
}
