/** Small pieces every page uses: states, times, progress, errors, empty states. */
import type { WireMetrics } from '@shoal/core';
import type { ReactNode } from 'react';
import { useI18n, type Messages } from './i18n.js';

const STATE_KEYS: Record<string, keyof Messages> = {
  Waiting: 'waiting',
  Running: 'running',
  Finished: 'finished',
  Failed: 'failed',
  Stopped: 'stopped',
};

export function StateBadge({ state }: { state: string }) {
  const { t } = useI18n();
  const key = STATE_KEYS[state];
  return (
    <span className={`badge state-${state.toLowerCase()}`} data-state={state}>
      {key ? t(key) : state}
    </span>
  );
}

/** "3 min ago", with the exact time on hover; blank for a time not set. */
export function Time({ value }: { value: string }) {
  const { lang } = useI18n();
  if (!value) return <span className="muted">–</span>;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return <span>{value}</span>;
  const seconds = Math.round((ms - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(lang === 'zh' ? 'zh-CN' : 'en', { numeric: 'auto' });
  const abs = Math.abs(seconds);
  const text =
    abs < 60
      ? rtf.format(seconds, 'second')
      : abs < 3600
        ? rtf.format(Math.round(seconds / 60), 'minute')
        : abs < 86400
          ? rtf.format(Math.round(seconds / 3600), 'hour')
          : rtf.format(Math.round(seconds / 86400), 'day');
  return (
    <time dateTime={value} title={new Date(ms).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en')}>
      {text}
    </time>
  );
}

/** Finished / failed / running parts of all instances, as a bar with the counts. */
export function Progress({ metrics }: { metrics: WireMetrics }) {
  const total =
    metrics.WaitingCount +
    metrics.RunningCount +
    metrics.FinishedCount +
    metrics.FailedCount +
    metrics.StoppedCount;
  const pct = (n: number) => `${total ? (100 * n) / total : 0}%`;
  return (
    <div className="progress" title={`${metrics.FinishedCount} / ${total}`}>
      <div className="bar">
        <span className="seg finished" style={{ width: pct(metrics.FinishedCount) }} />
        <span className="seg failed" style={{ width: pct(metrics.FailedCount) }} />
        <span className="seg running" style={{ width: pct(metrics.RunningCount) }} />
        <span className="seg stopped" style={{ width: pct(metrics.StoppedCount) }} />
      </div>
      <span className="count">
        {metrics.FinishedCount.toLocaleString()}/{total.toLocaleString()}
      </span>
    </div>
  );
}

/** What went wrong (the API's code and message, which name the field and value) and what to do. */
export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  if (!error) return null;
  const e = error as { code?: string; message?: string };
  return (
    <div className="error" role="alert">
      <strong>{e.code ?? t('error')}</strong> {e.message ?? String(error)}
      {onRetry && (
        <button type="button" className="link" onClick={onRetry}>
          {t('retry')}
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return <p className="muted">{t('loading')}</p>;
}
