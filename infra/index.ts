/**
 * The Pulumi entry point (Pulumi.yaml `main`). Pulumi imports this module and awaits the
 * default export; what it returns becomes the stack's outputs.
 */
import { program } from './program.ts';

export default function main() {
  return program();
}
