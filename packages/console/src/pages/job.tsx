/** One job: its DAG drawn live, its tasks, its description as submitted, and its actions. */
import type { ShoalClient } from '@shoal/sdk';
import type { WireTask } from '@shoal/core';
import { useState } from 'react';
import { JobActions } from '../actions.js';
import { useI18n } from '../i18n.js';
import { usePoll } from '../poll.js';
import { go, href } from '../route.js';
import { ErrorBox, Loading, Progress, StateBadge, Time } from '../ui.js';
import { JobDag } from './dag.js';

async function allTasks(client: ShoalClient, jobId: string): Promise<WireTask[]> {
  const out: WireTask[] = [];
  let marker = '';
  do {
    const page = await client.listTasks(jobId, { maxItemCount: 100, ...(marker ? { marker } : {}) });
    out.push(...page.Items);
    marker = page.NextMarker;
  } while (marker);
  return out;
}

export function JobPage({ client, jobId }: { client: ShoalClient; jobId: string }) {
  const { t } = useI18n();
  const [actionError, setActionError] = useState<unknown>(undefined);
  const job = usePoll(() => client.getJob(jobId), [jobId]);
  const tasks = usePoll(() => allTasks(client, jobId), [jobId]);
  const description = usePoll(() => client.getJobDescription(jobId), [jobId], 0);
  const j = job.data;
  return (
    <section>
      <header className="page-head">
        <h1>
          {j?.Name ?? jobId} {j && <StateBadge state={j.State} />}
        </h1>
        {j && (
          <JobActions
            className="tools"
            client={client}
            job={j}
            done={(action) => {
              if (action === 'delete') go({ page: 'jobs' });
              job.refresh();
              tasks.refresh();
            }}
            failed={setActionError}
          />
        )}
      </header>
      <ErrorBox error={job.error} onRetry={job.refresh} />
      <ErrorBox error={actionError} />
      {j && (
        <dl className="facts">
          <dt>{t('id')}</dt>
          <dd className="id">{j.Id}</dd>
          <dt>{t('priority')}</dt>
          <dd>{j.Priority}</dd>
          <dt>{t('created')}</dt>
          <dd>
            <Time value={j.CreationTime} />
          </dd>
          <dt>{t('started')}</dt>
          <dd>
            <Time value={j.StartTime} />
          </dd>
          <dt>{t('ended')}</dt>
          <dd>
            <Time value={j.EndTime} />
          </dd>
          <dt>{t('instances')}</dt>
          <dd>
            <Progress metrics={j.InstanceMetrics} />
          </dd>
          {j.Message && (
            <>
              <dt>{t('error')}</dt>
              <dd>{j.Message}</dd>
            </>
          )}
        </dl>
      )}
      <h2>{t('dag')}</h2>
      {tasks.data ? <JobDag jobId={jobId} tasks={tasks.data} /> : <Loading />}
      <h2>{t('tasks')}</h2>
      {tasks.data && (
        <table className="list" data-testid="tasks">
          <thead>
            <tr>
              <th>{t('task')}</th>
              <th>{t('state')}</th>
              <th>{t('instances')}</th>
              <th>{t('started')}</th>
              <th>{t('ended')}</th>
              <th>{t('pending')}</th>
            </tr>
          </thead>
          <tbody>
            {tasks.data.map((task) => (
              <tr key={task.TaskName}>
                <td>
                  <a href={href({ page: 'task', jobId, taskName: task.TaskName })}>{task.TaskName}</a>
                </td>
                <td>
                  <StateBadge state={task.State} />
                </td>
                <td>
                  <Progress metrics={task.InstanceMetrics} />
                </td>
                <td>
                  <Time value={task.StartTime} />
                </td>
                <td>
                  <Time value={task.EndTime} />
                </td>
                <td className="muted">{task.PendingReason?.Message ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t('description')}</h2>
      {description.data && <pre className="json">{JSON.stringify(description.data, null, 2)}</pre>}
    </section>
  );
}
