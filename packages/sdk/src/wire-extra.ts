/**
 * Wire shapes the SDK sends or receives that core does not define: the submitted JobDescription
 * (spec §5.1–5.6, as clients write it) and the Shoal object routes' listing.
 */

/** `POST /images` (spec §5.11, and Shoal's RootFsPath / Docker). */
export interface WireImageDescription {
  Name: string;
  Description?: string;
  Platform?: 'Linux';
  EcsImageId?: string;
  RootFsPath?: string;
  Docker?: { Image: string; ArchivePath?: string };
}

/** `Parameters.Command` of a task (spec §5.5). */
export interface WireCommand {
  CommandLine: string;
  PackagePath: string;
  EnvVars?: Record<string, string>;
  Docker?: { Image: string };
}

/** `AutoCluster` of a task (spec §5.6). */
export interface WireAutoCluster {
  ImageId?: string;
  ECSImageId?: string;
  InstanceType?: string;
  ResourceType?: string;
  ReserveOnFail?: boolean;
  SpotStrategy?: string;
  SpotPriceLimit?: number;
  UserData?: Record<string, string>;
  Configs?: Record<string, unknown>;
}

/** One entry of `Mounts.Entries` (spec §5.6.4). */
export interface WireMountEntry {
  Source: string;
  Destination: string;
  WriteSupport?: boolean;
}

/** `Mounts` of a task or of an AutoCluster's `Configs`. */
export interface WireMounts {
  Entries?: WireMountEntry[];
  Locale?: string;
  Lock?: boolean;
  NAS?: Record<string, unknown>;
}

/** One task of a DAG job (spec §5.3). */
export interface WireTaskDescription {
  InstanceCount: number;
  Timeout: number;
  MaxRetryCount?: number;
  ClusterId?: string;
  AutoCluster?: WireAutoCluster;
  InputMapping?: Record<string, string>;
  OutputMapping?: Record<string, string>;
  LogMapping?: Record<string, string>;
  WriteSupport?: boolean;
  /** Storage attached before the command starts (oss:// read-only; nas:// and file:// where allowed). */
  Mounts?: WireMounts;
  /** Shoal addition: false gives the task's commands a network of their own with only loopback. */
  NetworkAccess?: boolean;
  Parameters: {
    Command: WireCommand;
    InputMappingConfig?: { Locale?: string; Lock?: boolean };
    StdoutRedirectPath: string;
    StderrRedirectPath: string;
  };
}

/** The body of `POST /jobs` for a DAG job (spec §5.1). */
export interface WireJobDescription {
  Name: string;
  Description?: string;
  Priority: number;
  Type: 'DAG' | 'App' | string;
  JobFailOnInstanceFail?: boolean;
  AutoRelease?: boolean;
  Notification?: { Topic: { Name?: string; Endpoint?: string; Events?: string[] } };
  DAG: {
    Tasks: Record<string, WireTaskDescription>;
    /** Successors of each task: `{"split": ["count"]}` runs count after split. */
    Dependencies?: Record<string, string[]>;
  };
}

/** One object of `GET /objects/{bucket}?Prefix=` (Shoal addition). */
export interface WireObjectSummary {
  Key: string;
  Size: number;
  LastModified: string;
}

/** The listing of `GET /objects/{bucket}` (Shoal addition). */
export interface WireObjectList {
  NextMarker: string;
  Items: WireObjectSummary[];
  /** Common prefixes ("directories") when a Delimiter was given. */
  Prefixes: string[];
}

/** What `HEAD /objects/{bucket}/{key}` tells about an object. */
export interface ObjectHead {
  size: number;
  /** `Last-Modified` header as sent, '' when absent. */
  lastModified: string;
  contentType: string;
  etag: string;
}

/** Which log of an instance attempt. */
export type LogStream = 'stdout' | 'stderr';

/** `GET /whoami`: whose key signed the request (Shoal addition). */
export interface WireWhoAmI {
  Name: string;
  OwnerId: number;
  AccessKeyId: string;
  Admin: boolean;
}

/** One user of `GET /users` (admin API, Shoal addition). */
export interface WireUser {
  Name: string;
  OwnerId: number;
  CreationTime: string;
  KeyCount: number;
}

/** `POST /users` answer. */
export interface WireUserCreated {
  Id: string;
  OwnerId: number;
}

/** `POST /users/{name}/keys` answer: the only response that ever carries a secret. */
export interface WireAccessKeySecret {
  AccessKeyId: string;
  AccessKeySecret: string;
}

/** One key of `GET /users/{name}/keys`. */
export interface WireAccessKey {
  AccessKeyId: string;
  State: 'Active' | 'Disabled' | string;
  CreationTime: string;
}

/** A presigned object URL (`POST /objects/{bucket}/{key}?presign`). */
export interface WirePresigned {
  Url: string;
  Method: string;
  Expires: number;
}

/** A group of a ClusterDescription (spec §5.9). */
export interface WireGroupDescription {
  DesiredVMCount: number;
  InstanceType?: string;
  ResourceType?: 'OnDemand' | 'Spot';
  SpotStrategy?: string;
  SpotPriceLimit?: number;
  HostnamePrefix?: string;
  /** Shoal addition: an elastic group, scaled with demand between DesiredVMCount and this. */
  MaxVMCount?: number;
}

/** The body of `POST /clusters` (spec §5.8), plus Shoal's `Provider` (`static`, `local`, `slurm`). */
export interface WireClusterDescription {
  Name: string;
  Description?: string;
  ImageId: string;
  InstanceType?: string;
  Groups: Record<string, WireGroupDescription>;
  UserData?: Record<string, string>;
  EnvVars?: Record<string, string>;
  Configs?: Record<string, unknown>;
  Notification?: Record<string, unknown>;
  Bootstrap?: string;
  Provider?: 'static' | 'local' | 'slurm';
}

/** The body of `PUT /clusters/{id}` (spec §5.10); absent fields stay as they are. */
export interface WireClusterChange {
  Groups?: Record<
    string,
    { DesiredVMCount?: number; InstanceType?: string; SpotStrategy?: string; SpotPriceLimit?: number }
  >;
  UserData?: Record<string, string>;
  EnvVars?: Record<string, string>;
  InputMapping?: Record<string, string>;
  ImageId?: string;
}
