/**
 * Retry rules on how an attempt ended (Shoal addition `TaskDescription.RetryStrategy`, after AWS Batch's
 * `evaluateOnExit`): a failed attempt is checked against the rules in order, and the first that matches
 * decides: `RETRY` (again, while MaxRetryCount allows) or `EXIT` (the instance fails now, whatever
 * retries are left). With no rule matching, MaxRetryCount alone decides, as without rules.
 *
 * `{"EvaluateOnExit": [{"OnExitCode": "137", "Action": "RETRY"}, {"OnErrorCode": "OutOfMemory",
 *   "Action": "EXIT"}, {"OnExitCode": "*", "Action": "EXIT"}]}`
 * OnExitCode is digits with an optional trailing `*` (`1*`: 1, 10-19, 100-199, ...), or `*` alone for any
 * attempt, with or without an exit code; OnErrorCode an ErrorCode (`Timeout`, `OutOfMemory`, ...), also with
 * an optional trailing `*`. A rule gives one or both; both must match.
 */
import type { AttemptResult } from './attempt.js';

export type RetryAction = 'RETRY' | 'EXIT';

export interface RetryRule {
  readonly onExitCode?: string;
  readonly onErrorCode?: string;
  readonly action: RetryAction;
}

export const MAX_RETRY_RULES = 5;
export const EXIT_CODE_PATTERN = /^(\*|\d{1,10}\*?)$/;
export const ERROR_CODE_PATTERN = /^[A-Za-z]{0,64}\*?$/;

function globMatches(pattern: string, value: string): boolean {
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : value === pattern;
}

function ruleMatches(rule: RetryRule, result: AttemptResult): boolean {
  if (rule.onExitCode !== undefined && rule.onExitCode !== '*') {
    if (result.exitCode === null || !globMatches(rule.onExitCode, String(result.exitCode))) return false;
  }
  if (rule.onErrorCode !== undefined && !globMatches(rule.onErrorCode, result.errorCode)) return false;
  return true;
}

/** The action of the first rule a failed attempt matches, or undefined when none does. */
export function retryActionFor(
  rules: readonly RetryRule[] | undefined,
  result: AttemptResult,
): RetryAction | undefined {
  return rules?.find((rule) => ruleMatches(rule, result))?.action;
}
