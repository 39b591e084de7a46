import { startShoal } from './dist/src/index.js';
import { authorizationHeader, httpDate } from '@shoal/core';
import { mkdtempSync } from 'node:fs';
const N = Number(process.argv[2] ?? 3000);
const dir = mkdtempSync('/tmp/smoke/t');
const s = await startShoal({ dataDir: dir, port: 0, slots: 2, logLevel: 'warn', sandbox: 'off' });
const { AccessKeyId: ak, AccessKeySecret: sk } = s.credentials;
async function call(method, target, body) {
  const headers = { Date: httpDate(Date.now()), Accept: 'application/json', 'Content-Type': 'application/json' };
  headers.Authorization = authorizationHeader(ak, sk, method, target, headers);
  const r = await fetch(s.url + target, { method, headers, body: body ? JSON.stringify(body) : undefined });
  return JSON.parse(await r.text() || '{}');
}
const job = { Name: 'tp', Priority: 1, DAG: { Tasks: { t: { InstanceCount: N, Timeout: 30, AutoCluster: { ImageId: 'img-ubuntu' }, Parameters: { Command: { CommandLine: '/bin/true', PackagePath: '' } } } } } };
const t0 = performance.now();
const { Id } = await call('POST', '/jobs', job);
for (;;) { const j = await call('GET', `/jobs/${Id}`); if (['Finished','Failed'].includes(j.State)) { console.log(j.State, j.InstanceMetrics); break; } await new Promise(r => setTimeout(r, 20)); }
const dt = performance.now() - t0; console.log(`${N} instances in ${dt.toFixed(0)} ms = ${(N / dt * 1000).toFixed(0)}/s`);
await s.close();
