import { aboutCommand } from './about.ts';
import { askCommand } from './ask.ts';
import type { CommandSpec } from './command.ts';
import { helpCommand } from './help.ts';
import { reloadCommand } from './reload.ts';
import { resetCommand } from './reset.ts';
import { sourcesCommand } from './sources.ts';
import { startCommand } from './start.ts';
import { statsCommand } from './stats.ts';
import { usageCommand } from './usage.ts';

/** Every command, in the order platforms list them. A static list, so deploy scripts and tests see the same set. */
export const commands = [
  startCommand,
  askCommand,
  sourcesCommand,
  resetCommand,
  aboutCommand,
  helpCommand,
  usageCommand,
  reloadCommand,
  statsCommand,
] as unknown as CommandSpec[];

/** The commands a platform offers. */
export function commandsFor(platform: 'telegram' | 'discord' | 'cli'): CommandSpec[] {
  return commands.filter((command) => !command.platforms || command.platforms.includes(platform));
}

/** Finds a command by name on a platform. */
export function findCommand(platform: 'telegram' | 'discord' | 'cli', name: string): CommandSpec | undefined {
  return commandsFor(platform).find((command) => command.name === name);
}

/** The command a plain message runs (see `CommandSpec.plainTextOption`), with the option the text fills. */
export function plainTextCommand(platform: 'telegram' | 'discord' | 'cli'): {
  spec: CommandSpec;
  option: string;
} {
  const spec = commandsFor(platform).find((command) => command.plainTextOption);
  if (!spec?.plainTextOption) throw new Error(`no command takes plain text on ${platform}`);
  return { spec, option: spec.plainTextOption };
}
