// Entry point for Pulumi's policy runner, which require()s this folder (package.json main).
// The policies are strict ESM TypeScript, like the rest of the repository, so they are loaded
// through tsx's CommonJS API; the runner's own ts-node only ever sees this plain file.
const { require: tsxRequire } = require('tsx/cjs/api');
tsxRequire('./pack.ts', __filename);
