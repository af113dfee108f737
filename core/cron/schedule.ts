import cron from 'node-cron';
import { UserError } from '../errors.ts';

export const SCHEDULE_HELP = 'use five fields (minute hour day-of-month month day-of-week), or six with seconds first, e.g. "15 3 * * *"';

const FIELD_NAMES: Record<string, string> = { second: 'second', minute: 'minute', hour: 'hour', dayOfMonth: 'day-of-month', month: 'month', dayOfWeek: 'day-of-week' };

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
