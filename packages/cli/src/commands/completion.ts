/**
 * `shoal completion bash|zsh`: a completion script built from the program's own command tree, so it
 * never falls behind the commands. Use: `source <(shoal completion bash)`.
 */
import type { Command } from 'commander';
import { UsageError, type CommandRegistrar } from '../context.js';

function words(command: Command): string[] {
  return command.commands.flatMap((c) => [c.name(), ...c.aliases()]);
}

/** `name|alias` -> words after it, for commands with subcommands (oss, admin, admin user ...). */
function nested(command: Command, path: string[] = []): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const child of command.commands) {
    for (const name of [child.name(), ...child.aliases()]) {
      const key = [...path, name].join(' ');
      const options = child.options.map((o) => o.long ?? o.short ?? '').filter(Boolean);
      out.push([key, [...words(child), ...options]]);
      if (child.commands.length) out.push(...nested(child, [...path, name]));
    }
  }
  return out;
}

export function bashScript(program: Command): string {
  const cases = nested(program)
    .map(([key, list]) => `    "${key}") opts="${list.join(' ')}" ;;`)
    .join('\n');
  return `# shoal/bcs bash completion: source <(shoal completion bash)
_shoal_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" key="" opts="${words(program).join(' ')}" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) key="\${key:+$key }\${COMP_WORDS[i]}" ;; esac
  done
  case "$key" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -o default -F _shoal_complete shoal bcs
`;
}

export function zshScript(program: Command): string {
  return `#compdef shoal bcs
# shoal/bcs zsh completion: source <(shoal completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(program)}`;
}

export const registerCompletionCommand: CommandRegistrar = (program, ctx, exit) => {
  program
    .command('completion')
    .description('print a shell completion script: source <(shoal completion bash)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell === 'bash') ctx.stdout.write(bashScript(program));
      else if (shell === 'zsh') ctx.stdout.write(zshScript(program));
      else throw new UsageError(`unsupported shell "${shell}": use bash or zsh`);
      exit.code = 0;
    });
};
