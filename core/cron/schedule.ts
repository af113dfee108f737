import cron from 'node-cron';
import { UserError } from '../errors.ts';

export const SCHEDULE_HELP = 'use five fields (minute hour day-of-month month day-of-week), or six with seconds first, e.g. "15 3 * * *"';

const FIELD_NAMES: Record<string, string> = { second: 'second', minute: 'minute', hour: 'hour', dayOfMonth: 'day-of-month', month: 'month', dayOfWeek: 'day-of-week' };

const REVERSED_HELP = 'write ranges low-high; for one that wraps, list both parts, e.g. "55-59,0-5"';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** A range end as a number: digits, or a month or weekday name (its first three letters, as node-cron reads it). */
function rangeEnd(text: string, field: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const names = field === 'month' ? MONTHS : field === 'day-of-week' ? WEEKDAYS : undefined;
  const i = names?.indexOf(text.slice(0, 3).toLowerCase()) ?? -1;
  if (i < 0) return undefined;
  return field === 'month' ? i + 1 : i;
}

/** The first `a-b` whose start is after its end: node-cron wraps such a range around instead of refusing it. */
function reversedRange(fields: readonly string[]): { item: string; field: string } | undefined {
  const names = fields.length === 6 ? ['second', 'minute', 'hour', 'day-of-month', 'month', 'day-of-week'] : ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'];
  for (const [i, text] of fields.entries()) {
    for (const item of text.split(',')) {
      const m = /^([^-/]+)-([^-/]+)(?:\/\d+)?$/.exec(item);
      if (!m) continue;
      const a = rangeEnd(m[1]!, names[i]!);
      const b = rangeEnd(m[2]!, names[i]!);
      if (a !== undefined && b !== undefined && a > b) return { item, field: names[i]! };
    }
  }
  return undefined;
}

/** Refuses an invalid cron expression with the field that is wrong. Pure. */
export function validateSchedule(where: string, expression: string): void {
  const fields = expression.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6) {
    throw new UserError(`${where} "${expression.slice(0, 80)}" has ${fields.length} field(s)`, SCHEDULE_HELP);
  }
  let result;
  try {
    result = cron.validateDetailed(expression);
  } catch (e) {
    throw new UserError(`${where} "${expression.slice(0, 80)}" is not a valid cron expression: ${(e as Error).message}`, SCHEDULE_HELP);
  }
  if (!result.valid) {
    const first = result.errors[0];
    const field = first ? (FIELD_NAMES[first.field] ?? first.field) : '';
    const detail = first ? (first.value !== undefined ? `"${first.value}" is not valid in the ${field} field` : first.message) : 'invalid';
    throw new UserError(`${where} "${expression.slice(0, 80)}" is not a valid cron expression: ${detail}`, SCHEDULE_HELP);
  }
  const reversed = reversedRange(fields);
  if (reversed) {
    throw new UserError(`${where} "${expression.slice(0, 80)}" is not a valid cron expression: "${reversed.item}" is a reversed range in the ${reversed.field} field`, REVERSED_HELP);
  }
}

/** When `expression` next fires in `timezone`, computed by node-cron itself so status and scheduler agree. */
export function nextRun(expression: string, timezone: string): Date | undefined {
  const task = cron.createTask(expression, () => {}, { timezone });
  try {
    return task.getNextRuns(1)[0];
  } finally {
    void task.destroy();
  }
}
