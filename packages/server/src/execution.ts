/**
 * How this server runs attempts, as the API reports it (`GET /available`, `bcs info`, `bcs it`): the
 * instance types on offer and how commands are confined. Set up by the composition root.
 */
import type { InstanceTypeSpec, WireInstanceType, WireSandbox } from '@shoal/core';

export interface ExecutionInfo {
  readonly catalog: readonly InstanceTypeSpec[];
  readonly sandbox: WireSandbox;
}

const MiB = 1024 * 1024;

export function wireInstanceType(t: InstanceTypeSpec): WireInstanceType {
  return {
    InstanceType: t.name,
    CpuCore: Math.max(1, Math.round(t.cpuCores)),
    MemorySize: Math.max(1, Math.round(t.memoryBytes / 1024 ** 3)),
    Network: { Classic: false, Vpc: true },
    Cpu: t.cpuCores,
    MemoryMiB: Math.round(t.memoryBytes / MiB),
    ProcessLimit: t.processes,
  };
}

/** The warning an operator must see when commands run unconfined. */
export const UNSANDBOXED_WARNING =
  "the sandbox is off (--sandbox off): commands run unconfined as the server's own user and can read its " +
  "keys, database and every user's data";
