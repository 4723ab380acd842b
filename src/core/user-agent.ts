// How qwen-lite names itself to the servers it calls: as Qwen Code does (compat §7), so that its traffic is
// read as Qwen Code's (`User-Agent`, and DashScope's own `X-DashScope-UserAgent`).
import process from 'node:process';
import packageJson from '../../package.json' with { type: 'json' };

export const userAgent = `QwenCode/${packageJson.version} (${process.platform}; ${process.arch})`;
