// Reads what a pipe gives on stdin without ever hanging on a stdin that stays open and silent.

/** Qwen Code's rule: a pipe that has sent nothing after this long is treated as empty. */
export const stdinFirstByteTimeoutMs = 500;
/** Larger inputs are cut, with a warning, like Qwen Code. */
export const stdinMaxBytes = 8 * 1024 * 1024;

export interface StdinText {
  text: string;
  truncated: boolean;
}

/** Resolves with the piped text, or undefined when stdin is a terminal or nothing came in time. */
export function readPipedStdin(
  stdin: NodeJS.ReadStream,
  firstByteTimeoutMs = stdinFirstByteTimeoutMs,
): Promise<StdinText | undefined> {
  if (stdin.isTTY) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    const finish = () => {
      clearTimeout(firstByteTimer);
      stdin.off('data', onData);
      stdin.off('end', finish);
      stdin.off('error', finish);
      stdin.pause();
      // An open pipe would keep the process alive after the answer.
      stdin.destroy();
      if (chunks.length === 0) resolve(undefined);
      else resolve({ text: Buffer.concat(chunks).toString('utf8'), truncated });
    };
    const onData = (chunk: Buffer | string) => {
      clearTimeout(firstByteTimer);
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const room = stdinMaxBytes - size;
      if (bytes.length > room) {
        chunks.push(bytes.subarray(0, room));
        size = stdinMaxBytes;
        truncated = true;
        finish();
        return;
      }
      chunks.push(bytes);
      size += bytes.length;
    };
    const firstByteTimer = setTimeout(finish, firstByteTimeoutMs);
    stdin.on('data', onData);
    stdin.once('end', finish);
    stdin.once('error', finish);
  });
}
