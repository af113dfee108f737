import { EXIT, type ExitCode } from '../../core/errors.ts';
import type { ChecksReport } from '../types.ts';

/** 2 when a check could not run, 1 on error findings (or warnings under --strict), else 0. */
export function exitCodeFor(report: Pick<ChecksReport, 'results' | 'summary'>, strict: boolean): ExitCode {
  if (report.results.some((r) => r.status === 'error')) return EXIT.error;
  if (report.summary.failed > 0) return EXIT.findings;
  if (strict && report.summary.warnings > 0) return EXIT.findings;
  return EXIT.ok;
}
