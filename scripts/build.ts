// Compiles the CLI into a single executable: `bun scripts/build.ts` -> dist/qwen for this machine.
// The binary must not read .env or bunfig.toml from wherever it is started: configuration is ours alone.
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dir, '..');
const outfile = path.join(root, 'dist', 'qwen');
mkdirSync(path.dirname(outfile), { recursive: true });

const result = Bun.spawnSync(
  [
    process.execPath,
    'build',
    '--compile',
    '--minify',
    '--no-compile-autoload-dotenv',
    '--no-compile-autoload-bunfig',
    path.join(root, 'src', 'main.ts'),
    '--outfile',
    outfile,
  ],
  { stdout: 'inherit', stderr: 'inherit', cwd: root },
);
if (result.exitCode !== 0) process.exit(result.exitCode ?? 1);
