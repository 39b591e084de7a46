/** Clusters as the provisioners read them: whole (clusters are few). */
import type { ClusterProvider, ClusterRecord, Store } from '@shoal/core';
import { DEFAULT_CLUSTER_ID } from '@shoal/core';

/** The Active clusters a provider serves. */
export async function activeClustersOf(store: Store, provider: ClusterProvider): Promise<ClusterRecord[]> {
  return (await allClusters(store)).filter(
    (c) => c.provider === provider && c.state === 'Active' && c.id !== DEFAULT_CLUSTER_ID,
  );
}

export async function allClusters(store: Store): Promise<ClusterRecord[]> {
  const all: ClusterRecord[] = [];
  let marker: string | undefined;
  do {
    const page = await store.listClusters({ limit: 100, ...(marker ? { marker } : {}) });
    all.push(...page.items);
    marker = page.nextMarker || undefined;
  } while (marker);
  return all;
}
