/** Read-mostly pages: images, instance types, quotas with their use, and the event stream. */
import type { ShoalClient } from '@shoal/sdk';
import { useI18n } from '../i18n.js';
import { usePoll } from '../poll.js';
import { href } from '../route.js';
import { Empty, ErrorBox, Loading, Time } from '../ui.js';

export function ImagesPage({ client }: { client: ShoalClient }) {
  const { t } = useI18n();
  const mine = usePoll(() => client.listImages({ maxItemCount: 100 }), [], 0);
  const system = usePoll(() => client.listImages({ system: true, maxItemCount: 100 }), [], 0);
  const items = [...(system.data?.Items ?? []), ...(mine.data?.Items ?? [])];
  return (
    <section>
      <h1>{t('images')}</h1>
      <ErrorBox error={mine.error ?? system.error} />
      {!mine.data && <Loading />}
      <table className="list">
        <thead>
          <tr>
            <th>{t('id')}</th>
            <th>{t('name')}</th>
            <th>{t('type')}</th>
            <th>Kind</th>
            <th>Source</th>
            <th>{t('created')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.Id}>
              <td className="id">{i.Id}</td>
              <td>{i.Name}</td>
              <td>{i.Type}</td>
              <td>{i.Kind}</td>
              <td className="id">{i.Source}</td>
              <td>
                <Time value={i.CreationTime} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function TypesPage({ client }: { client: ShoalClient }) {
  const { t } = useI18n();
  const available = usePoll(() => client.getAvailable(), [], 0);
  const a = available.data;
  return (
    <section>
      <h1>{t('types')}</h1>
      <ErrorBox error={available.error} />
      {!a && <Loading />}
      {a && a.Sandbox.Warning && <p className="warning">{a.Sandbox.Warning}</p>}
      {a && (
        <table className="list">
          <thead>
            <tr>
              <th>{t('instanceType')}</th>
              <th>CPU</th>
              <th>MiB</th>
              <th>Processes</th>
            </tr>
          </thead>
          <tbody>
            {a.AvailableClusterInstanceType.map((it) => (
              <tr key={it.InstanceType}>
                <td>{it.InstanceType}</td>
                <td>{it.Cpu}</td>
                <td>{it.MemoryMiB.toLocaleString()}</td>
                <td>{it.ProcessLimit}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function QuotasPage({ client }: { client: ShoalClient }) {
  const { t } = useI18n();
  const quotas = usePoll(() => client.getQuotas(), []);
  const q = quotas.data;
  const usage = (q?.Usage ?? {}) as Record<string, number>;
  return (
    <section>
      <h1>{t('quotas')}</h1>
      <ErrorBox error={quotas.error} />
      {!q && <Loading />}
      {q?.Limits && (
        <table className="list">
          <thead>
            <tr>
              <th>{t('name')}</th>
              <th>{t('limits')}</th>
              <th>{t('usageNow')}</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(q.Limits).map(([k, v]) => (
              <tr key={k}>
                <td>{k}</td>
                <td>{v === null ? t('none') : v.toLocaleString()}</td>
                <td>{usage[k] ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function EventsPage({ client }: { client: ShoalClient }) {
  const { t } = useI18n();
  const events = usePoll(
    async () => (await client.listEvents({ order: 'desc', maxItemCount: 100 })).Items,
    [],
  );
  return (
    <section>
      <h1>{t('events')}</h1>
      <ErrorBox error={events.error} />
      {!events.data && <Loading />}
      {events.data?.length === 0 && <Empty title={t('none')} />}
      {events.data && events.data.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th>{t('time')}</th>
              <th>{t('type')}</th>
              <th>{t('jobs')}</th>
              <th>{t('task')}</th>
              <th>{t('instance')}</th>
            </tr>
          </thead>
          <tbody>
            {events.data.map((e) => (
              <tr key={e.Seq}>
                <td>
                  <Time value={e.Time} />
                </td>
                <td>{e.Type}</td>
                <td className="id">
                  <a href={href({ page: 'job', jobId: e.JobId })}>{e.JobId}</a>
                </td>
                <td>{e.TaskName}</td>
                <td>{e.InstanceId ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
