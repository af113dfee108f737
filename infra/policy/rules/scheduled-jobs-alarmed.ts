import type { StackValidationPolicy } from '@pulumi/policy';
import { MARKERS, TYPES } from '../resource-types.ts';

/**
 * Design record: monitoring that never notices failing backups is worse than none. Every
 * EventBridge Scheduler schedule has at least one CloudWatch alarm watching it (tagged
 * `pgsteward:schedule` with the schedule's name) that says what missing data means.
 */
export const scheduledJobsAlarmed: StackValidationPolicy = {
  name: 'pgsteward-scheduled-jobs-alarmed',
  description: 'Every scheduled job has a CloudWatch alarm (tagged pgsteward:schedule with its name) with treatMissingData set.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateStack: (args, reportViolation) => {
    const alarms = args.resources.filter((r) => r.type === TYPES.metricAlarm);
    for (const schedule of args.resources.filter((r) => r.type === TYPES.schedule)) {
      const name = schedule.props.name as string | undefined;
      const watching = alarms.filter((a) => name !== undefined && a.props.tags?.[MARKERS.scheduleTag] === name);
      if (watching.length === 0) {
        reportViolation(`schedule ${name ?? schedule.name} has no alarm; add a CloudWatch alarm tagged ${MARKERS.scheduleTag}=${name ?? '<schedule name>'}.`, schedule.urn);
      } else if (!watching.some((a) => typeof a.props.treatMissingData === 'string' && a.props.treatMissingData !== 'missing')) {
        reportViolation(`the alarms of schedule ${name} leave treatMissingData at "missing", so a job that stops running is never noticed; set it (breaching for a freshness alarm).`, schedule.urn);
      }
    }
  },
};
