// `faasq new NAME --lang LANG`: scaffolds a function from a template (the project's template/<lang>/,
// else faasq's own node template) and adds it to a stack file.
import { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerNewCommand(program: Command, ctx: CliContext): void {
  program
    .command('new')
    .description('create a function from a template and add it to a stack file')
    .argument('<name>', 'function name')
    .requiredOption('--lang <lang>', 'template: a template/<lang>/ folder beside the stack file (faas-cli template pull), or node')
    .option('--dir <dir>', 'folder to create it in', '.')
    .option('-f, --yaml <file>', 'stack file to add it to', 'stack.yml')
    .action(async (name: string, opts: { lang: string; dir: string; yaml: string }) => {
      const { scaffoldFunction } = await import('../../stack/index.js');
      const { files } = await scaffoldFunction({ name, lang: opts.lang, dir: opts.dir, stackFile: opts.yaml });
      ctx.io.stdout.write(`Created ${name} (${opts.lang}):\n${files.map((f) => `  ${f}\n`).join('')}`);
    });
}
