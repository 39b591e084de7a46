export { startShoal, type RunningShoal } from './shoal.js';
export { resolveServerOptions, type ShoalServerOptions, type ResolvedServerOptions } from './options.js';
export { credentialsPath, type Credentials } from './credentials.js';
