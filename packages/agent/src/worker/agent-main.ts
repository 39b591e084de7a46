/**
 * The entry of an agent process a server starts itself (the `local` provider): its settings come as
 * JSON in SHOAL_AGENT_CONFIG (the environment, not argv, so the token is not shown to other users by
 * ps). SIGTERM drains it; a second SIGTERM, or SIGINT, stops it at once.
 */
import { startAgent, type AgentOptions } from './agent.js';

function log(level: string) {
  return (details: object, message: string) => {
    const err = (details as { err?: unknown }).err;
    const shown = err instanceof Error ? { ...details, err: err.message } : details;
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...shown })}\n`,
    );
  };
}

async function main(): Promise<void> {
  const raw = process.env.SHOAL_AGENT_CONFIG;
  if (!raw) throw new Error('SHOAL_AGENT_CONFIG is not set');
  delete process.env.SHOAL_AGENT_CONFIG;
  const config = JSON.parse(raw) as Omit<AgentOptions, 'log'>;
  const agent = await startAgent({
    ...config,
    log: { info: log('info'), warn: log('warn'), error: log('error') },
  });
  process.stdout.write(`Shoal agent ${agent.workerId} joined ${config.clusterId}\n`);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    const done = signals === 1 && signal === 'SIGTERM' ? agent.drain() : agent.stop();
    void done.then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`shoal agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
