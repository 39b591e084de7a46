/** Reads TaskDescription.RetryStrategy (Shoal addition; core/retry-rules.ts says what it means). */
import { invalidJob } from '../errors.js';
import type { RetryRule } from '../retry-rules.js';
import { ERROR_CODE_PATTERN, EXIT_CODE_PATTERN, MAX_RETRY_RULES } from '../retry-rules.js';
import { entriesOf, get, isAbsent, requireObject } from './fields.js';
import { readInt } from './numbers.js';

const RULE_KEYS = ['OnExitCode', 'OnErrorCode', 'Action'];

function readRule(raw: unknown, at: string): RetryRule {
  const rule = requireObject(raw, at);
  for (const [key, value] of entriesOf(rule))
    if (!RULE_KEYS.includes(key))
      throw invalidJob(`${at}.${key}`, value, `is not one of ${RULE_KEYS.join(', ')}`);
  const exit = get(rule, 'OnExitCode');
  const code = get(rule, 'OnErrorCode');
  const action = get(rule, 'Action');
  if (!isAbsent(exit) && (typeof exit !== 'string' || !EXIT_CODE_PATTERN.test(exit)))
    throw invalidJob(`${at}.OnExitCode`, exit, "must be digits with an optional trailing '*', or '*'");
  if (!isAbsent(code) && (typeof code !== 'string' || !ERROR_CODE_PATTERN.test(code)))
    throw invalidJob(`${at}.OnErrorCode`, code, "must be an ErrorCode with an optional trailing '*'");
  if (isAbsent(exit) && isAbsent(code))
    throw invalidJob(at, raw, 'must give OnExitCode, OnErrorCode or both');
  const upper = typeof action === 'string' ? action.toUpperCase() : action;
  if (upper !== 'RETRY' && upper !== 'EXIT')
    throw invalidJob(`${at}.Action`, action, 'must be RETRY or EXIT');
  return {
    ...(isAbsent(exit) ? {} : { onExitCode: exit as string }),
    ...(isAbsent(code) ? {} : { onErrorCode: code as string }),
    action: upper,
  };
}

/** The longest wait between attempts a task may ask for. */
export const MAX_RETRY_BACKOFF_SEC = 3600;

export function readRetryStrategy(raw: unknown, path: string): { rules: RetryRule[]; backoffSec: number } {
  if (isAbsent(raw)) return { rules: [], backoffSec: 0 };
  const strategy = requireObject(raw, path);
  for (const [key, value] of entriesOf(strategy))
    if (key !== 'EvaluateOnExit' && key !== 'BackoffSeconds')
      throw invalidJob(`${path}.${key}`, value, 'is not one of EvaluateOnExit, BackoffSeconds');
  const backoffSec = readInt(get(strategy, 'BackoffSeconds'), `${path}.BackoffSeconds`, {
    min: 0,
    max: MAX_RETRY_BACKOFF_SEC,
    fallback: 0,
  });
  const rules = get(strategy, 'EvaluateOnExit');
  if (isAbsent(rules)) return { rules: [], backoffSec };
  if (!Array.isArray(rules)) throw invalidJob(`${path}.EvaluateOnExit`, rules, 'must be a list of rules');
  if (rules.length > MAX_RETRY_RULES)
    throw invalidJob(`${path}.EvaluateOnExit`, rules.length, `must hold at most ${MAX_RETRY_RULES} rules`);
  return { rules: rules.map((rule, i) => readRule(rule, `${path}.EvaluateOnExit[${i}]`)), backoffSec };
}
