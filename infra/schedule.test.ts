import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULES } from '../core/config/ops-config.ts';
import { eventBridgeCron, longestGapHours } from './schedule.ts';

describe('EventBridge Scheduler expressions from the config schedules', () => {
  it('turns the default schedules into cron(minute hour dom month dow year) with ? in the unused day field', () => {
    expect(eventBridgeCron(DEFAULT_SCHEDULES.backup)).toBe('cron(15 3 * * ? *)');
    expect(eventBridgeCron(DEFAULT_SCHEDULES.verify)).toBe('cron(45 4 ? * 1 *)');
    expect(eventBridgeCron(DEFAULT_SCHEDULES.checks)).toBe('cron(5 * * * ? *)');
  });

  it('numbers days of the week from 1 = Sunday, expanding ranges and names, 7 meaning Sunday', () => {
    expect(eventBridgeCron('0 2 * * 1-5')).toBe('cron(0 2 ? * 2,3,4,5,6 *)');
    expect(eventBridgeCron('0 2 * * 5-7')).toBe('cron(0 2 ? * 1,6,7 *)');
    expect(eventBridgeCron('0 2 * * 0,7')).toBe('cron(0 2 ? * 1 *)');
    expect(eventBridgeCron('0 2 * * mon,wed,fri')).toBe('cron(0 2 ? * 2,4,6 *)');
    expect(eventBridgeCron('0 2 * * SAT')).toBe('cron(0 2 ? * 7 *)');
  });

  it('keeps minute, hour, day-of-month and month fields, steps and lists included', () => {
    expect(eventBridgeCron('*/15 1-3 1,15 * *')).toBe('cron(*/15 1-3 1,15 * ? *)');
    expect(eventBridgeCron('0 0 1 jan,jul *')).toBe('cron(0 0 1 jan,jul ? *)');
    expect(eventBridgeCron('0 30 2 * * *')).toBe('cron(30 2 * * ? *)');
  });

  it('refuses what EventBridge cannot express exactly, naming the fix', () => {
    expect(() => eventBridgeCron('0 3 1 * 1')).toThrow(/restricts both the day of the month and the day of the week/);
    expect(() => eventBridgeCron('0 3 * * */2')).toThrow(/no steps in the day-of-week field/);
    expect(() => eventBridgeCron('30 0 3 * * *')).toThrow(/runs at a second other than 0/);
    expect(() => eventBridgeCron('0 3 * *')).toThrow(/has 4 field/);
  });

  it('measures the longest wait between runs, DST included', () => {
    expect(longestGapHours(DEFAULT_SCHEDULES.backup, 'UTC')).toBe(24);
    expect(longestGapHours(DEFAULT_SCHEDULES.verify, 'UTC')).toBe(168);
    expect(longestGapHours('0 */6 * * *', 'UTC')).toBe(6);
    expect(longestGapHours('0 9 * * 1-5', 'UTC')).toBe(72);
    // The day the clocks go back in Berlin has 25 hours; a year of runs includes one.
    expect(longestGapHours('30 3 * * *', 'Europe/Berlin')).toBe(25);
  });
});
