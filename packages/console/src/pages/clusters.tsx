/** Clusters: the list, creating one, and a cluster's groups (scaled here) with their workers and load. */
import type { ShoalClient } from '@shoal/sdk';
import { useState } from 'react';
import { useI18n } from '../i18n.js';
import { usePoll } from '../poll.js';
import { href } from '../route.js';
import { Empty, ErrorBox, Loading, Time } from '../ui.js';

export function ClustersPage({ client }: { client: ShoalClient }) {
  const { t } = useI18n();
  const list = usePoll(() => client.listClusters({ maxItemCount: 100 }), []);
  const types = usePoll(() => client.getAvailable(), [], 0);
  const [name, setName] = useState('my-cluster');
  const [type, setType] = useState('shoal.local');
  const [count, setCount] = useState(1);
  const [error, setError] = useState<unknown>(undefined);
  const create = async () => {
    setError(undefined);
    try {
      await client.createCluster({
        Name: name,
        ImageId: 'img-ubuntu',
        InstanceType: type,
        Groups: { group: { DesiredVMCount: count, InstanceType: type } },
      } as Parameters<ShoalClient['createCluster']>[0]);
      list.refresh();
    } catch (err) {
      setError(err);
    }
  };
  const mine = list.data?.Items ?? [];
  return (
    <section>
      <header className="page-head">
        <h1>{t('clusters')}</h1>
      </header>
      <ErrorBox error={list.error} onRetry={list.refresh} />
      {!list.data && <Loading />}
      {list.data && mine.length === 0 && <Empty title={t('noClusters')} />}
      {mine.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th>{t('name')}</th>
              <th>{t('state')}</th>
              <th>{t('groups')}</th>
              <th>{t('created')}</th>
            </tr>
          </thead>
          <tbody>
            {mine.map((c) => (
              <tr key={c.Id}>
                <td>
                  <a href={href({ page: 'cluster', clusterId: c.Id })}>{c.Name || c.Id}</a>
                  <div className="id">{c.Id}</div>
                </td>
                <td>{c.State}</td>
                <td>
                  {Object.entries(c.Groups)
                    .map(([g, v]) => `${g}: ${v.ActualVMCount}/${v.DesiredVMCount}`)
                    .join(', ')}
                </td>
                <td>
                  <Time value={c.CreationTime} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t('createCluster')}</h2>
      <form
        className="form inline"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <label>
          {t('clusterName')} <input value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          {t('instanceType')}{' '}
          <select value={type} onChange={(e) => setType(e.target.value)}>
            {(types.data?.AvailableClusterInstanceType ?? [{ InstanceType: 'shoal.local' }]).map((it) => (
              <option key={it.InstanceType}>{it.InstanceType}</option>
            ))}
          </select>
        </label>
        <label>
          {t('desired')}{' '}
          <input type="number" min={0} value={count} onChange={(e) => setCount(Number(e.target.value))} />
        </label>
        <button type="submit" className="primary">
          {t('createCluster')}
        </button>
      </form>
      <ErrorBox error={error} />
    </section>
  );
}

export function ClusterPage({ client, clusterId }: { client: ShoalClient; clusterId: string }) {
  const { t } = useI18n();
  const cluster = usePoll(() => client.getCluster(clusterId), [clusterId]);
  const workers = usePoll(async () => {
    const c = await client.getCluster(clusterId);
    const out: { group: string; items: Awaited<ReturnType<ShoalClient['listClusterInstances']>>['Items'] }[] =
      [];
    for (const group of Object.keys(c.Groups))
      out.push({
        group,
        items: (await client.listClusterInstances(clusterId, group, { maxItemCount: 100 })).Items,
      });
    return out;
  }, [clusterId]);
  const [error, setError] = useState<unknown>(undefined);
  const scale = async (group: string, desired: number) => {
    setError(undefined);
    try {
      await client.modifyCluster(clusterId, { Groups: { [group]: { DesiredVMCount: desired } } });
      cluster.refresh();
    } catch (err) {
      setError(err);
    }
  };
  const c = cluster.data;
  return (
    <section>
      <header className="page-head">
        <h1>{c?.Name || clusterId}</h1>
        <a href={href({ page: 'clusters' })}>{t('clusters')}</a>
      </header>
      <ErrorBox error={cluster.error ?? error} onRetry={cluster.refresh} />
      {c && (
        <table className="list">
          <thead>
            <tr>
              <th>{t('groups')}</th>
              <th>{t('instanceType')}</th>
              <th>{t('desired')}</th>
              <th>{t('actual')}</th>
              <th>{t('scale')}</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(c.Groups).map(([group, g]) => (
              <tr key={group}>
                <td>{group}</td>
                <td>{g.InstanceType}</td>
                <td>{g.DesiredVMCount}</td>
                <td>{g.ActualVMCount}</td>
                <td>
                  <div className="row-actions">
                    <button
                      type="button"
                      aria-label={`${t('scale')} −1`}
                      onClick={() => void scale(group, Math.max(0, g.DesiredVMCount - 1))}
                    >
                      −
                    </button>
                    <button
                      type="button"
                      aria-label={`${t('scale')} +1`}
                      onClick={() => void scale(group, g.DesiredVMCount + 1)}
                    >
                      +
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t('workersTitle')}</h2>
      {workers.data?.every((w) => w.items.length === 0) && <Empty title={t('noWorkers')} />}
      {workers.data?.map(({ group, items }) =>
        items.length === 0 ? null : (
          <table className="list" key={group}>
            <thead>
              <tr>
                <th>{t('worker')}</th>
                <th>{t('groups')}</th>
                <th>{t('state')}</th>
                <th>{t('load')}</th>
                <th>Heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {items.map((w) => (
                <tr key={w.Id}>
                  <td className="id">
                    {w.Id} <span className="muted">{w.HostName}</span>
                  </td>
                  <td>{group}</td>
                  <td>{w.State}</td>
                  <td>
                    {w.RunningInstances}/{w.Slots}
                  </td>
                  <td>
                    <Time value={w.LastHeartbeatTime} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ),
      )}
    </section>
  );
}
