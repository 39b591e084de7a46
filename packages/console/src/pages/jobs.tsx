/** The job list: search, state filter, Marker paging, live refresh, and the actions of each job. */
import type { ShoalClient } from '@shoal/sdk';
import { useState } from 'react';
import { JobActions } from '../actions.js';
import { useI18n } from '../i18n.js';
import { usePoll } from '../poll.js';
import { href } from '../route.js';
import { Empty, ErrorBox, Loading, Progress, StateBadge, Time } from '../ui.js';

const STATES = ['Waiting', 'Running', 'Finished', 'Failed', 'Stopped'];
const PAGE = 50;
const JOB_ID = /^job-[0-9A-Za-z]+$/;

export function JobsPage({ client }: { client: ShoalClient }) {
  const { t } = useI18n();
  const [state, setState] = useState('');
  const [search, setSearch] = useState('');
  /** Markers of the pages before this one; the last is this page's. */
  const [markers, setMarkers] = useState<string[]>(['']);
  const [actionError, setActionError] = useState<unknown>(undefined);
  const marker = markers[markers.length - 1] ?? '';
  const term = search.trim();
  const page = usePoll(async () => {
    if (JOB_ID.test(term)) {
      const job = await client.getJob(term).catch((err: { status?: number }) => {
        if (err.status === 404) return undefined;
        throw err;
      });
      return { Items: job ? [job] : [], NextMarker: '' };
    }
    return client.listJobs({
      maxItemCount: PAGE,
      ...(marker ? { marker } : {}),
      ...(state ? { state } : {}),
      ...(term ? { name: term } : {}),
    });
  }, [marker, state, term]);

  const items = page.data?.Items ?? [];

  return (
    <section>
      <header className="page-head">
        <h1>{t('jobs')}</h1>
        <div className="tools">
          <input
            type="search"
            aria-label={t('search')}
            placeholder={t('search')}
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              setMarkers(['']);
            }}
          />
          <select
            aria-label={t('state')}
            value={state}
            onChange={(e) => {
              setState(e.target.value);
              setMarkers(['']);
            }}
          >
            <option value="">{t('allStates')}</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <a className="button primary" href={href({ page: 'submit', tab: 'form' })}>
            {t('submit')}
          </a>
        </div>
      </header>
      <ErrorBox error={page.error} onRetry={page.refresh} />
      <ErrorBox error={actionError} />
      {!page.data && !page.error && <Loading />}
      {page.data && items.length === 0 && (
        <Empty title={term || state ? t('noMatch') : t('noJobs')}>
          {!term && !state && (
            <p>
              {t('noJobsHint')} <a href={href({ page: 'submit', tab: 'designer' })}>{t('designerTab')}</a>
            </p>
          )}
        </Empty>
      )}
      {items.length > 0 && (
        <table className="list" data-testid="jobs">
          <thead>
            <tr>
              <th>{t('name')}</th>
              <th>{t('state')}</th>
              <th>{t('tasksDone')}</th>
              <th>{t('instances')}</th>
              <th>{t('priority')}</th>
              <th>{t('created')}</th>
              <th>{t('started')}</th>
              <th>{t('ended')}</th>
              <th>{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((job) => (
              <tr key={job.Id} data-job={job.Id}>
                <td>
                  <a href={href({ page: 'job', jobId: job.Id })}>{job.Name}</a>
                  <div className="id">{job.Id}</div>
                </td>
                <td>
                  <StateBadge state={job.State} />
                </td>
                <td>
                  {job.TaskMetrics.FinishedCount}/{Object.values(job.TaskMetrics).reduce((a, b) => a + b, 0)}
                </td>
                <td>
                  <Progress metrics={job.InstanceMetrics} />
                </td>
                <td>{job.Priority}</td>
                <td>
                  <Time value={job.CreationTime} />
                </td>
                <td>
                  <Time value={job.StartTime} />
                </td>
                <td>
                  <Time value={job.EndTime} />
                </td>
                <td>
                  <JobActions client={client} job={job} done={page.refresh} failed={setActionError} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className="pager">
        {markers.length > 1 && (
          <button type="button" onClick={() => setMarkers([''])}>
            {t('firstPage')}
          </button>
        )}
        {page.data?.NextMarker && !JOB_ID.test(term) && (
          <button type="button" onClick={() => setMarkers([...markers, page.data!.NextMarker])}>
            {t('nextPage')}
          </button>
        )}
      </nav>
    </section>
  );
}
