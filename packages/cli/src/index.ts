export { main, createProgram } from './main.js';
export type { CliContext, CliOutput, ExitState } from './context.js';
export { CliError } from './context.js';
export { parseIni, substituteVariables, IniSyntaxError, DEFAULT_SECTION } from './jobcfg/parse.js';
export type { IniDocument, IniSection } from './jobcfg/parse.js';
export { buildJob, jobSourceFromIni, singleTaskSource, JOB_DEFAULTS } from './jobcfg/to-job.js';
export type { BuildJobOptions, BuiltJob, JobSource, PackPlan, Settings } from './jobcfg/to-job.js';
export {
  JobConfigError,
  parseEnv,
  parseMountList,
  splitMountPair,
  parseDeps,
  parseCluster,
  parseBool,
} from './jobcfg/pairs.js';
export { packToTarGz } from './pack.js';
export { resolveConnection } from './connection.js';
export type { Connection, ConnectionFlags } from './connection.js';
