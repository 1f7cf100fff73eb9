import readline from 'node:readline';
import { Writable } from 'node:stream';

/**
 * Asks on the terminal without echoing what is typed (passwords, API tokens). The answer comes back
 * exactly as typed, spaces included, so a password set with `farm-manager user` is the one `farm
 * login` sends; callers reading tokens trim them themselves.
 */
export function promptHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = readline.createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}
