import { Unavailable, type Benchmark } from '../lib/context.ts';

export const backupBenchmark: Benchmark = {
  id: 'backup',
  title: 'Backup overhead: backup-db vs pg_dump -Fc',
  question: 'What our backup (checksummed, with a manifest and row counts) costs over a bare pg_dump -Fc of the same database. Target: ≤ 1.10×.',
  async run() {
    throw new Unavailable('core/backup restore is not written yet');
  },
};
