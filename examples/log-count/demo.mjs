#!/usr/bin/env node
// `npm run demo`: the log-count job of the BatchCompute user guide, end to end on this machine.
// Starts `shoal server` (or reuses the one already serving the data directory), uploads a generated
// log file through the SDK, submits job.cfg with the CLI exactly as the guide does with bcs, checks
// the merged counts and leaves the server running for you to explore (Ctrl-C stops it).
//
//   npm run demo -- [--exit] [--port 7720] [--data-dir ./.shoal] [--lines 10000]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShoalClient } from '@shoal/sdk';
import { ensureBubblewrap } from '../../scripts/system-deps.mjs';
import { DEFAULT_LINES, generateLog } from './generate-input.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const BIN = join(ROOT, 'packages/cli/bin/shoal.js');
const FOLDER = 'oss://log-count/log-count/';
const SUBMIT_ARGS = `sub --file job.cfg -r ${FOLDER}:/home/input -w ${FOLDER}:/home/output`.split(' ');
const START_TIMEOUT_MS = 30_000;

class DemoError extends Error {}

function parseArgs(argv) {
  const o = { exit: false, port: 7720, dataDir: resolve('.shoal'), lines: DEFAULT_LINES };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new DemoError(`${arg} needs a value`);
      return argv[++i];
    };
    const count = (name, text) => {
      if (!/^\d+$/.test(text)) throw new DemoError(`${name} must be a whole number, got "${text}"`);
      return Number(text);
    };
    if (arg === '--exit') o.exit = true;
    else if (arg === '--port') o.port = count('--port', value());
    else if (arg === '--data-dir') {
      o.dataDir = resolve(value());
    } else if (arg === '--lines') o.lines = count('--lines', value());
    else if (arg === '-h' || arg === '--help') o.help = true;
    else throw new DemoError(`unknown option ${arg} (try --help)`);
  }
  return o;
}

const step = (text) => console.log(`\n== ${text}`);

function isListening(port) {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

function readCredentials(dataDir) {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function clientFor(endpoint, { AccessKeyId: accessKeyId, AccessKeySecret: accessKeySecret }) {
  return new ShoalClient({ endpoint, accessKeyId, accessKeySecret });
}

async function reuseServer(o) {
  const endpoint = `http://127.0.0.1:${o.port}`;
  const creds = readCredentials(o.dataDir);
  const client = creds && clientFor(endpoint, creds);
  const works =
    client &&
    (await client.listJobs({ maxItemCount: 1 }).then(
      () => true,
      () => false,
    ));
  if (!works) {
    throw new DemoError(
      `port ${o.port} is in use, but not by a Shoal server of ${o.dataDir} (its credentials.json does not work there). ` +
        `Stop that program, or pick another port: npm run demo -- --port ${o.port + 1}`,
    );
  }
  console.log(`Reusing the Shoal server already listening on ${endpoint} (data dir ${o.dataDir})`);
  return { endpoint, client, child: undefined };
}

function startServer(o) {
  const args = [BIN, 'server', '--port', String(o.port), '--data-dir', o.dataDir, '--log-level', 'warn'];
  console.log(`$ shoal server --port ${o.port} --data-dir ${o.dataDir}`);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((done, fail) => {
    let out = '';
    let ready = false;
    const timer = setTimeout(
      () => fail(new DemoError(`the server did not start within 30 s:\n${out}`)),
      START_TIMEOUT_MS,
    );
    child.stdout.setEncoding('utf8').on('data', (text) => {
      process.stdout.write(text);
      if (ready) return;
      out += text;
      const m = /^Shoal listening on (http:\/\/\S+)$/m.exec(out);
      if (m) {
        ready = true;
        clearTimeout(timer);
        const creds = readCredentials(o.dataDir);
        if (!creds)
          return fail(
            new DemoError(`the server started but wrote no ${join(o.dataDir, 'credentials.json')}`),
          );
        done({ endpoint: m[1], client: clientFor(m[1], creds), child });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new DemoError(`the server exited (${signal ?? `code ${code}`}) before it was ready`));
    });
  });
}

/** Runs the repo's CLI as a user would; stdout is echoed and returned, stderr (progress) goes straight through. */
function shoal(args, { env, cwd = ROOT }) {
  console.log(`$ shoal ${args.join(' ')}`);
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (text) => {
      stdout += text;
      process.stdout.write(text);
    });
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout }));
  });
}

/** A rerun starts clean: a leftover count_results/<n>.json of an earlier run would be merged too. */
async function clearFolder(client) {
  for (;;) {
    const page = await client.listObjects(FOLDER, { maxItemCount: 1000 });
    if (page.Items.length === 0) return;
    for (const item of page.Items) await client.deleteObject(`oss://log-count/${item.Key}`);
  }
}

function sameCounts(text, expected) {
  let a;
  try {
    a = JSON.parse(text);
  } catch {
    return false;
  }
  const keys = Object.keys(expected);
  return (
    typeof a === 'object' &&
    a !== null &&
    Object.keys(a).length === keys.length &&
    keys.every((k) => a[k] === expected[k])
  );
}

function printTour(o, jobId) {
  const commands = [
    ['npx shoal job', 'recent jobs; their row numbers can stand for ids'],
    [`npx shoal job ${jobId}`, "the job's tasks"],
    [`npx shoal job ${jobId} count`, 'the 3 instances of count'],
    ['npx shoal ch 1', 'details of job 1 of the last listing'],
    [`npx shoal log ${jobId}`, 'what split, count and merge printed'],
    ['npx shoal log 1 count 2', 'only instance 2 of count'],
    [
      `cat ${relative(ROOT, join(o.dataDir, 'objects/log-count/log-count/merge_result.txt'))}`,
      'the result (bcs oss cat)',
    ],
  ];
  const width = Math.max(...commands.map(([command]) => command.length));
  const lines = commands.map(([command, comment]) => `  ${command.padEnd(width)}  # ${comment}`);
  if (o.dataDir !== resolve(ROOT, '.shoal')) lines.unshift(`  export SHOAL_DATA_DIR=${o.dataDir}`);
  console.log(`\nNext steps, from the repository root in another terminal:\n${lines.join('\n')}`);
  console.log('Submit it again by hand from examples/log-count (see its README.md for the walk-through):');
  console.log(`  cd examples/log-count && npx shoal ${SUBMIT_ARGS.join(' ')} --wait`);
}

async function run(o) {
  step('Checking bubblewrap (every instance runs in a sandbox)');
  const purpose = { purpose: 'the log-count demo', consequence: 'the demo cannot run its sandboxed tasks' };
  if (!ensureBubblewrap(purpose)) throw new DemoError('bubblewrap is required: apt-get install bubblewrap');
  console.log('bubblewrap is installed');
  if (!existsSync(join(ROOT, 'packages/cli/dist/src/main.js')))
    throw new DemoError('Shoal is not built yet: run npm ci (or npm run build) first');

  step('Starting Shoal');
  const server = (await isListening(o.port)) ? await reuseServer(o) : await startServer(o);
  const env = { ...process.env, SHOAL_DATA_DIR: o.dataDir, SHOAL_ENDPOINT: server.endpoint };
  try {
    step(`Uploading a generated log file of ${o.lines} lines to ${FOLDER}log-count-data.txt`);
    const { text, counts } = generateLog(o.lines);
    await clearFolder(server.client);
    await server.client.putObject(`${FOLDER}log-count-data.txt`, text);
    console.log(`expected counts: ${JSON.stringify(counts)}`);

    step('Submitting job.cfg (split -> count x3 -> merge), as the guide does with bcs');
    const sub = await shoal([...SUBMIT_ARGS, '--wait'], { env, cwd: HERE });
    const jobId = /^Job created: (\S+)$/m.exec(sub.stdout)?.[1];
    if (!jobId) throw new DemoError('the job was not created');
    if (sub.code !== 0) {
      await shoal(['log', jobId], { env });
      throw new DemoError(`job ${jobId} did not finish; its logs are above`);
    }

    step('The job and its result');
    await shoal(['job'], { env });
    const result = new TextDecoder().decode(await server.client.getObject(`${FOLDER}merge_result.txt`));
    console.log(`${FOLDER}merge_result.txt: ${result}`);
    if (!sameCounts(result, counts))
      throw new DemoError(`the merged counts ${result} differ from the expected ${JSON.stringify(counts)}`);
    console.log(`OK: the merged counts match the generated log (${o.lines} lines)`);
    printTour(o, jobId);
  } catch (err) {
    await stopServer(server.child);
    throw err;
  }

  if (!server.child) return 0;
  if (o.exit) {
    await stopServer(server.child);
    return 0;
  }
  console.log(`\nThe server keeps running on ${server.endpoint}; press Ctrl-C to stop it.`);
  return waitForStop(server.child);
}

function stopServer(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

/** Ctrl-C reaches the server too (same process group); either way we wait until it has shut down. */
function waitForStop(child) {
  return new Promise((done) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      console.log('\nStopping the server...');
      stopServer(child).then(() => done(0));
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      if (code === 0) return done(0);
      console.error(`the server exited unexpectedly (${signal ?? `code ${code}`})`);
      done(1);
    });
  });
}

try {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    console.log('usage: npm run demo -- [--exit] [--port 7720] [--data-dir ./.shoal] [--lines 10000]');
  } else {
    process.exitCode = await run(options);
  }
} catch (err) {
  console.error(
    `\nFAIL: ${err instanceof DemoError ? err.message : err instanceof Error ? err.stack : String(err)}`,
  );
  process.exitCode = 1;
}
