/** Job actions, shared by the job list and the job page; each asks first where it cannot be undone. */
import type { WireJob } from '@shoal/core';
import type { ShoalClient } from '@shoal/sdk';
import { useI18n } from './i18n.js';

const canStop = (job: WireJob) => job.State === 'Waiting' || job.State === 'Running';
const canRestart = (job: WireJob) => job.State === 'Stopped' || job.State === 'Failed';

/**
 * Stop, restart (re-runs the failed and stopped instances; finished ones keep their results), delete and
 * change the priority, as the job's state allows. `done` runs after an action went through (with what
 * it was), `failed` gets the API's error.
 */
export function JobActions(props: {
  client: ShoalClient;
  job: WireJob;
  done: (action: 'stop' | 'restart' | 'delete' | 'priority') => void;
  failed: (err: unknown) => void;
  className?: string;
}) {
  const { client, job, done, failed } = props;
  const { t } = useI18n();
  const run = async (action: 'stop' | 'restart' | 'delete' | 'priority', act: () => Promise<boolean>) => {
    try {
      if (await act()) done(action);
    } catch (err) {
      failed(err);
    }
  };
  return (
    <div className={props.className ?? 'row-actions'}>
      {canStop(job) && (
        <button
          type="button"
          onClick={() =>
            run(
              'stop',
              async () =>
                window.confirm(t('confirmStop', { id: job.Id })) && (await client.stopJob(job.Id), true),
            )
          }
        >
          {t('stop')}
        </button>
      )}
      {canRestart(job) && (
        <button
          type="button"
          onClick={() => run('restart', async () => (await client.startJob(job.Id), true))}
        >
          {t('restart')}
        </button>
      )}
      {!canStop(job) && (
        <button
          type="button"
          className="danger"
          onClick={() =>
            run(
              'delete',
              async () =>
                window.confirm(t('confirmDelete', { id: job.Id })) && (await client.deleteJob(job.Id), true),
            )
          }
        >
          {t('delete')}
        </button>
      )}
      <button
        type="button"
        onClick={() =>
          run('priority', async () => {
            const answer = window.prompt(t('newPriority'), String(job.Priority));
            if (answer === null || answer.trim() === '') return false;
            await client.changeJobPriority(job.Id, Number(answer));
            return true;
          })
        }
      >
        {t('changePriority')}
      </button>
    </div>
  );
}
