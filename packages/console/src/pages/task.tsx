/** One task: its instances, paged from the server (a task may have millions), and the log of one of them. */
import type { ShoalClient } from '@shoal/sdk';
import { useState } from 'react';
import { useI18n } from '../i18n.js';
import { usePoll } from '../poll.js';
import { go, href } from '../route.js';
import { ErrorBox, Loading, Progress, StateBadge, Time } from '../ui.js';
import { LogView } from './log.js';

const PAGE = 50;

function usage(u: { CpuSeconds: number | null; PeakMemoryBytes: number | null }): string {
  const parts: string[] = [];
  if (u.CpuSeconds !== null) parts.push(`${u.CpuSeconds.toFixed(2)} s CPU`);
  if (u.PeakMemoryBytes !== null) parts.push(`${(u.PeakMemoryBytes / 2 ** 20).toFixed(1)} MiB`);
  return parts.join(', ');
}

export function TaskPage(props: {
  client: ShoalClient;
  jobId: string;
  taskName: string;
  instanceId?: number;
}) {
  const { client, jobId, taskName, instanceId } = props;
  const { t } = useI18n();
  const [markers, setMarkers] = useState<string[]>(['']);
  const marker = markers[markers.length - 1] ?? '';
  const task = usePoll(() => client.getTask(jobId, taskName), [jobId, taskName]);
  const page = usePoll(
    () => client.listInstances(jobId, taskName, { maxItemCount: PAGE, ...(marker ? { marker } : {}) }),
    [jobId, taskName, marker],
  );
  const selected = page.data?.Items.find((i) => i.InstanceId === instanceId);
  return (
    <section>
      <header className="page-head">
        <h1>
          {taskName} {task.data && <StateBadge state={task.data.State} />}
        </h1>
        <a href={href({ page: 'job', jobId })}>{t('backToJob')}</a>
      </header>
      <ErrorBox error={task.error ?? page.error} onRetry={page.refresh} />
      {task.data && <Progress metrics={task.data.InstanceMetrics} />}
      {task.data?.PendingReason && <p className="reason">{task.data.PendingReason.Message}</p>}
      {!page.data && <Loading />}
      {page.data && (
        <table className="list" data-testid="instances">
          <thead>
            <tr>
              <th>{t('instance')}</th>
              <th>{t('state')}</th>
              <th>{t('attempts')}</th>
              <th>{t('exitCode')}</th>
              <th>{t('error')}</th>
              <th>{t('worker')}</th>
              <th>{t('started')}</th>
              <th>{t('ended')}</th>
              <th>{t('usage')}</th>
              <th>{t('pending')}</th>
            </tr>
          </thead>
          <tbody>
            {page.data.Items.map((i) => (
              <tr
                key={i.InstanceId}
                data-instance={i.InstanceId}
                className={i.InstanceId === instanceId ? 'selected' : ''}
                tabIndex={0}
                onClick={() => go({ page: 'task', jobId, taskName, instanceId: i.InstanceId })}
                onKeyDown={(e) =>
                  e.key === 'Enter' && go({ page: 'task', jobId, taskName, instanceId: i.InstanceId })
                }
              >
                <td>{i.InstanceId}</td>
                <td>
                  <StateBadge state={i.State} />
                </td>
                <td>{i.AttemptCount}</td>
                <td>{i.EndTime && i.AttemptCount > 0 && i.Result.ExitCode >= 0 ? i.Result.ExitCode : ''}</td>
                <td title={i.Result.ErrorMessage}>{i.Result.ErrorCode}</td>
                <td className="id">{i.WorkerId}</td>
                <td>
                  <Time value={i.StartTime} />
                </td>
                <td>
                  <Time value={i.EndTime} />
                </td>
                <td>{usage(i.Usage)}</td>
                <td className="muted">{i.PendingReason?.Message ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className="pager">
        {markers.length > 1 && (
          <button type="button" onClick={() => setMarkers(markers.slice(0, -1))}>
            ←
          </button>
        )}
        {page.data?.NextMarker && (
          <button type="button" onClick={() => setMarkers([...markers, page.data!.NextMarker])}>
            {t('nextPage')}
          </button>
        )}
      </nav>
      {instanceId !== undefined && (
        <>
          <h2>
            {t('log')} · {t('instance')} {instanceId}
          </h2>
          <LogView
            client={client}
            jobId={jobId}
            taskName={taskName}
            instanceId={instanceId}
            live={!selected || selected.State === 'Running' || selected.State === 'Waiting'}
          />
        </>
      )}
    </section>
  );
}
