import { describe, expect, it } from 'vitest';
import { judgeContainerExit, judgeLambdaResult, logTail } from './bootstrap-result.ts';

const urn = 'urn:pulumi:dev::pgsteward::pgsteward:dev:DatabaseBootstrap$docker:index/container:Container::bootstrap-run';

describe('bootstrap verdicts', () => {
  it('accepts exit code 0 only', () => {
    expect(judgeContainerExit(0, 'ok', urn)).toEqual({ ok: true, summary: 'setup-db exited 0' });
    const v = judgeContainerExit(2, '{"x":1}\nerror: cannot connect to postgres://postgres:***@db:5432/postgres: timed out; check the host\n', urn);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.message).toMatch(/^database bootstrap \(setup-db\) exited with code 2: .*error: cannot connect.*pulumi up --replace '/);
    expect(judgeContainerExit(undefined, '', urn).ok).toBe(false);
  });

  it('keeps only the end of long logs', () => {
    expect(logTail('a\n\nb\nc\nd\ne\nf\n')).toBe('b / c / d / e / f');
    expect(logTail('x'.repeat(2000)).length).toBe(800);
    expect(logTail(undefined)).toBe('');
  });

  it('accepts the Lambda result only when it reports success for this setup key', () => {
    expect(judgeLambdaResult(JSON.stringify({ ok: true, setupKey: 'k1', summary: 'applied 4, 0 already applied', settings: { max_connections: '25', bogus: 3 } }), 'k1')).toEqual({
      ok: true,
      summary: 'applied 4, 0 already applied',
      settings: { max_connections: '25' },
    });
    expect(judgeLambdaResult(JSON.stringify({ ok: true, setupKey: 'old' }), 'k1').ok).toBe(false);
    expect(judgeLambdaResult(JSON.stringify({ errorMessage: 'database bootstrap failed: x', errorType: 'Error' }), 'k1')).toEqual({ ok: false, message: 'database bootstrap Lambda failed: database bootstrap failed: x' });
    expect(judgeLambdaResult('not json', 'k1').ok).toBe(false);
    expect(judgeLambdaResult(undefined, 'k1').ok).toBe(false);
  });
});
