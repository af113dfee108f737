import readline from 'node:readline';
import { cancelled } from '../errors.ts';

/**
 * Asks one question on the terminal. Ctrl-C or end of input (Ctrl-D) rejects with
 * "cancelled; nothing was changed" (exit 130) instead of leaving the process to end with
 * an unsettled promise.
 */
export function ask(question: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input, output, terminal: Boolean(input.isTTY) });
    let settled = false;
    const cancel = () => {
      if (settled) return;
      settled = true;
      output.write('\n');
      rl.close();
      reject(cancelled());
    };
    rl.on('SIGINT', cancel);
    rl.on('close', cancel);
    rl.question(question, (answer) => {
      settled = true;
      rl.close();
      resolve(answer.trim());
    });
  });
}
