#!/usr/bin/env bun
// Entry point for the compiled binary and for `bun`/`deno run`: runCli(argv) -> exit code.
import process from 'node:process';
import packageJson from '../package.json' with { type: 'json' };
import { runCommand } from './cli/run.ts';

const exitCode = await runCommand(process.argv.slice(2), packageJson.version);
// Output is written synchronously, so nothing is lost; exiting here also ends a stdin read left pending
// by a pipe that never closed.
process.exit(exitCode);
