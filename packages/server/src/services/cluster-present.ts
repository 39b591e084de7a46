/** Clusters and their workers as the API shows them (spec §6.4, §6.5). */
import type { ClusterRecord, WireCluster, WireClusterInstance, WorkerRecord } from '@shoal/core';
import { formatTime, groupInstanceType } from '@shoal/core';

export type { WireCluster, WireClusterInstance };

/** Running (heartbeats within a lease, takes work), Deleting (asked to leave) or Stopped (silent). */
export function workerState(w: WorkerRecord, liveSinceUs: number): 'Running' | 'Deleting' | 'Stopped' {
  if (w.heartbeatAtUs < liveSinceUs) return 'Stopped';
  return w.state;
}

export function presentWorker(w: WorkerRecord, liveSinceUs: number, running = 0): WireClusterInstance {
  return {
    Id: w.id,
    Hint: '',
    State: workerState(w, liveSinceUs),
    IpAddress: '',
    HostName: w.hostname,
    ErrorCode: 0,
    ErrorMessage: '',
    CreationTime: formatTime(w.registeredAtUs),
    InstancePassword: '',
    Slots: w.slots,
    LastHeartbeatTime: formatTime(w.heartbeatAtUs),
    RunningInstances: running,
  };
}

export function presentCluster(
  c: ClusterRecord,
  workers: readonly WorkerRecord[],
  liveSinceUs: number,
): WireCluster {
  const metrics = { RunningCount: 0, StartingCount: 0, StoppingCount: 0, StoppedCount: 0 };
  const running = new Map<string, number>();
  for (const w of workers) {
    const state = workerState(w, liveSinceUs);
    if (state === 'Running') {
      metrics.RunningCount++;
      running.set(w.groupName, (running.get(w.groupName) ?? 0) + 1);
    } else if (state === 'Deleting') metrics.StoppingCount++;
    else metrics.StoppedCount++;
  }
  const groups: WireCluster['Groups'] = {};
  for (const [name, g] of Object.entries(c.groups)) {
    const live = running.get(name) ?? 0;
    groups[name] = {
      DesiredVMCount: g.desiredVMCount,
      // On Slurm a group's one worker is the server's dispatcher; its VMs are the Slurm slots it may use.
      ActualVMCount: c.provider === 'slurm' ? (live > 0 ? g.desiredVMCount : 0) : live,
      InstanceType: groupInstanceType(c, name),
      ResourceType: g.resourceType,
      SpotStrategy: g.spotStrategy,
      SpotPriceLimit: g.spotPriceLimit,
      Disks: {},
      ...(g.maxVMCount ? { MinVMCount: g.minVMCount ?? 0, MaxVMCount: g.maxVMCount } : {}),
    };
  }
  return {
    Id: c.id,
    Name: c.name,
    OwnerId: c.ownerId,
    Description: c.description,
    CreationTime: formatTime(c.createdAtUs),
    State: c.state,
    ImageId: c.imageId,
    InstanceType: c.instanceType,
    UserData: { ...c.userData },
    EnvVars: { ...c.envVars },
    InputMapping: { ...c.inputMapping },
    InputMappingConfig: { Locale: '', Lock: false },
    Notification: c.notification ?? {},
    Configs: c.configs ?? {},
    WriteSupport: false,
    Bootstrap: c.bootstrap,
    SecurityGroup: '',
    Groups: groups,
    OperationLogs: [],
    Metrics: metrics,
    Provider: c.provider,
  };
}
