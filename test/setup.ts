import { afterAll } from 'vitest';
import { failOnStrayConsoleOutput } from './console-guard.ts';
import { removeDeveloperSettings } from './developer-settings.ts';
import { installLoopbackGuard, takeRefusedConnections } from './loopback-guard.ts';
import { removeCleanCwd } from './servers/poquan-env.ts';

// Runs before every test file, in its process. Tests pass settings explicitly, so nothing of the developer's
// environment may reach the code under test: a real key or a remote URL there must neither change a result
// nor send a request.
removeDeveloperSettings(process.env);

// Nor a .env file: Poquan processes get exactly their settings from test/servers/poquan-env.ts.
process.loadEnvFile = (path?: string | URL) => {
  throw new Error(`A test tried to load ${String(path ?? '.env')}: pass settings explicitly instead`);
};

installLoopbackGuard();

failOnStrayConsoleOutput();

afterAll(() => {
  removeCleanCwd();
  const refused = takeRefusedConnections();
  if (refused.length > 0) throw new Error(refused.join('\n'));
});
