import type { ChecksReport } from '../types.ts';

/** XML 1.0 text: escaped, and without the control characters XML cannot carry. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/**
 * JUnit XML: one testsuite per check, one testcase per verified subject and per finding.
 * Error findings are failures; warnings pass with the finding in system-out unless strict;
 * a check that could not run is an error.
 */
export function toJunit(report: ChecksReport, opts: { strict: boolean }): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  for (const r of report.results) {
    const cases: string[] = [];
    let f = 0;
    let e = 0;
    const cls = xmlEscape(r.id);
    for (const p of r.passed) cases.push(`    <testcase classname="${cls}" name="${xmlEscape(p)}" time="0"/>`);
    for (const finding of r.findings) {
      const name = xmlEscape(`${finding.object}: ${finding.message}`);
      const body = xmlEscape(`${finding.message}\nfix: ${finding.fix}`);
      if (finding.severity === 'error' || opts.strict) {
        f++;
        cases.push(`    <testcase classname="${cls}" name="${name}" time="0">\n      <failure type="${finding.severity}" message="${xmlEscape(finding.message)}">${body}</failure>\n    </testcase>`);
      } else {
        cases.push(`    <testcase classname="${cls}" name="${name}" time="0">\n      <system-out>warning: ${body}</system-out>\n    </testcase>`);
      }
    }
    if (r.status === 'error') {
      e++;
      cases.push(`    <testcase classname="${cls}" name="${cls} could not run" time="0">\n      <error type="error" message="${xmlEscape(r.error ?? 'error')}"/>\n    </testcase>`);
    }
    tests += cases.length;
    failures += f;
    errors += e;
    suites.push(
      `  <testsuite name="${cls}" tests="${cases.length}" failures="${f}" errors="${e}" skipped="0" time="${seconds(r.durationMs)}">\n` +
        `    <properties>\n      <property name="title" value="${xmlEscape(r.title)}"/>\n      <property name="severity" value="${r.severity}"/>\n      <property name="queries" value="${r.queries}"/>\n    </properties>\n` +
        cases.join('\n') +
        (cases.length ? '\n' : '') +
        '  </testsuite>',
    );
  }
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="pgsteward checks: ${xmlEscape(report.database)}" tests="${tests}" failures="${failures}" errors="${errors}" time="${seconds(report.durationMs)}">\n` +
    suites.join('\n') +
    '\n</testsuites>\n'
  );
}
