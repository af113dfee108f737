import cron from 'node-cron';
import { UserError } from '../core/errors.ts';
import { SCHEDULE_HELP, validateSchedule } from '../core/cron/schedule.ts';

/**
 * The config's cron schedules (node-cron: five fields, or six with seconds first) as
 * EventBridge Scheduler expressions, `cron(minutes hours day-of-month month day-of-week year)`.
 * EventBridge needs `?` in one of the two day fields, counts days of the week 1-7 from Sunday,
 * has no seconds and no steps in the day-of-week field; anything it cannot express exactly is
 * refused, never approximated. Pure.
 */

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

function dayIndex(token: string, where: string): number {
  const name = DAY_NAMES.indexOf(token.toUpperCase().slice(0, 3) as (typeof DAY_NAMES)[number]);
  if (name >= 0 && /^[a-z]{3,9}$/i.test(token)) return name;
  const n = Number(token);
  if (!/^\d$/.test(token) || n > 7) throw new UserError(`${where}: "${token}" is not a day of the week`, SCHEDULE_HELP);
  return n % 7;
}

/** A day-of-week field as the explicit EventBridge days (1 = Sunday … 7 = Saturday). */
function daysOfWeek(field: string, where: string): string {
  const days = new Set<number>();
  for (const part of field.split(',')) {
    if (part.includes('/')) throw new UserError(`${where}: EventBridge Scheduler has no steps in the day-of-week field ("${field}")`, 'list the days instead, e.g. 1,3,5');
    const [a, b] = part.split('-');
    if (b === undefined) {
      days.add(dayIndex(a!, where));
      continue;
    }
    const from = dayIndex(a!, where);
    // `5-7` is Friday to Sunday: 7 closes the week rather than wrapping to 0.
    const to = b === '7' ? 7 : dayIndex(b, where);
    if (to < from) throw new UserError(`${where}: the day range "${part}" runs backwards`, SCHEDULE_HELP);
    for (let d = from; d <= to; d++) days.add(d % 7);
  }
  return [...days].sort((x, y) => x - y).map((d) => String(d + 1)).join(',');
}

export function eventBridgeCron(expression: string, where = 'schedule'): string {
  validateSchedule(where, expression);
  const fields = expression.trim().split(/\s+/);
  if (fields.length === 6) {
    if (!/^0+$/.test(fields[0]!)) throw new UserError(`${where} "${expression}" runs at a second other than 0`, 'EventBridge Scheduler runs at whole minutes; drop the seconds field');
    fields.shift();
  }
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const anyDom = dom === '*';
  const anyDow = dow === '*';
  if (!anyDom && !anyDow) {
    throw new UserError(`${where} "${expression}" restricts both the day of the month and the day of the week`, 'EventBridge Scheduler needs one of them to be *; use two schedules or pick one');
  }
  const days = anyDow ? `${dom} ${month} ?` : `? ${month} ${daysOfWeek(dow, where)}`;
  return `cron(${minute} ${hour} ${days} *)`;
}

/**
 * The longest time between two consecutive runs of `expression` in `timezone`, in hours,
 * measured over its next `runs` firings (node-cron's own calendar, so DST is accounted for).
 */
export function longestGapHours(expression: string, timezone: string, runs = 400): number {
  const task = cron.createTask(expression, () => {}, { timezone });
  try {
    const times = task.getNextRuns(runs).map((d) => d.getTime());
    let gap = 0;
    for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
    return gap / 3_600_000;
  } finally {
    void task.destroy();
  }
}
