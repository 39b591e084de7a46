// Bodies as the original clients send them (spec §5.14, §8.2): they must validate unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateJobDescription } from './job.js';

// The Python SDK: json.dumps(indent=4), every field of its schema filled in, integers as JSON numbers.
const PYTHON_SDK_BODY = `{
    "Name": "py-job",
    "Description": "Batchcompute Python SDK",
    "Priority": 1,
    "Type": "DAG",
    "JobFailOnInstanceFail": true,
    "AutoRelease": false,
    "Notification": {
        "Topic": {
            "Name": "shoal-events",
            "Endpoint": "http://127.0.0.1:8080/events",
            "Events": ["OnJobFinished", "OnJobFailed"]
        }
    },
    "DAG": {
        "Tasks": {
            "find": {
                "InstanceCount": 2,
                "Timeout": 3600,
                "MaxRetryCount": 1,
                "AutoCluster": {
                    "ImageId": "img-ubuntu",
                    "InstanceType": "bcs.a2.large",
                    "ResourceType": "Spot",
                    "SpotStrategy": "SpotAsPriceGo",
                    "ReserveOnFail": false,
                    "UserData": {"role": "finder", "weight": 3},
                    "Configs": {
                        "Disks": {"SystemDisk": {"Type": "cloud", "Size": 40}, "DataDisk": {"Type": "cloud", "Size": 0}},
                        "Networks": {"VPC": {"CidrBlock": "192.168.0.0/16"}}
                    },
                    "DependencyIsvService": ""
                },
                "Parameters": {
                    "Command": {
                        "CommandLine": "python find_prime.py",
                        "PackagePath": "oss://my-bucket/find/worker.tar.gz",
                        "EnvVars": {"DEBUG": "1"},
                        "Docker": {"Image": "localhost:5000/py"}
                    },
                    "InputMappingConfig": {"Locale": "GBK", "Lock": false},
                    "StdoutRedirectPath": "oss://my-bucket/find/logs",
                    "StderrRedirectPath": "oss://my-bucket/find/logs/"
                },
                "InputMapping": {"oss://my-bucket/find/data/": "/home/input/"},
                "OutputMapping": {"/home/output/": "oss://my-bucket/find/out"},
                "LogMapping": {"/home/output/app.log": "oss://my-bucket/find/applogs/"},
                "Mounts": {"Entries": [{"Source": "oss://my-bucket/ref/", "Destination": "/home/ref/", "WriteSupport": false}], "Locale": "GBK", "Lock": false},
                "WriteSupport": true
            },
            "count": {
                "InstanceCount": 1,
                "Timeout": 3600,
                "MaxRetryCount": 0,
                "ClusterId": "cls-0123abcd",
                "Parameters": {
                    "Command": {"CommandLine": "python count.py", "PackagePath": "oss://my-bucket/find/worker.tar.gz", "EnvVars": {}},
                    "InputMappingConfig": {"Locale": "GBK", "Lock": false},
                    "StdoutRedirectPath": "oss://my-bucket/count/logs/",
                    "StderrRedirectPath": "oss://my-bucket/count/logs/"
                }
            }
        },
        "Dependencies": {"find": ["count"]}
    }
}`;

test('the Python SDK form is accepted with every field', () => {
  const spec = validateJobDescription(JSON.parse(PYTHON_SDK_BODY));
  assert.equal(spec.priority, 1);
  assert.deepEqual(spec.notification, {
    topicName: 'shoal-events',
    endpoint: 'http://127.0.0.1:8080/events',
    events: ['OnJobFinished', 'OnJobFailed'],
  });
  assert.deepEqual(
    spec.tasks.map((t) => t.name),
    ['find', 'count'],
  );
  const [find, count] = spec.tasks;
  assert.deepEqual(find?.autoCluster, {
    imageId: 'img-ubuntu',
    ecsImageId: '',
    instanceType: 'bcs.a2.large',
    resourceType: 'Spot',
    reserveOnFail: false,
    userData: { role: 'finder', weight: '3' },
  });
  assert.equal(find?.clusterId, '');
  assert.equal(find?.stdoutRedirectPath, 'oss://my-bucket/find/logs/');
  assert.deepEqual(find?.outputMappings, [
    { source: '/home/output', destination: 'oss://my-bucket/find/out/' },
  ]);
  assert.deepEqual(find?.logMappings, [
    { source: '/home/output/app.log', destination: 'oss://my-bucket/find/applogs/' },
  ]);
  assert.equal(count?.clusterId, 'cls-0123abcd');
  assert.equal(count?.autoCluster, null);
  assert.deepEqual(spec.predecessors, { find: [], count: ['find'] });
});

// `bcs sub "python run.py"` (action/job_submit.py defaults): both cluster keys, the unused one empty.
function cliBody(cluster: { ClusterId: string; AutoCluster: object }): unknown {
  return {
    Name: 'cli-job',
    Description: 'BatchCompute cli job',
    Priority: 1,
    Type: 'DAG',
    JobFailOnInstanceFail: true,
    AutoRelease: false,
    Notification: { Topic: {} },
    DAG: {
      Tasks: {
        task: {
          InstanceCount: 1,
          Timeout: 86400,
          MaxRetryCount: 0,
          ...cluster,
          Mounts: { NAS: {} },
          InputMapping: {},
          OutputMapping: {},
          LogMapping: {},
          WriteSupport: true,
          Parameters: {
            Command: { CommandLine: 'python run.py', PackagePath: '', EnvVars: {} },
            InputMappingConfig: { Lock: false },
            StdoutRedirectPath: 'oss://my-bucket/2f0c7a1e/logs/',
            StderrRedirectPath: 'oss://my-bucket/2f0c7a1e/logs/',
          },
        },
      },
      Dependencies: {},
    },
  };
}

test('the CLI form with ClusterId "" and an AutoCluster is accepted', () => {
  const spec = validateJobDescription(
    cliBody({
      ClusterId: '',
      AutoCluster: {
        ImageId: 'img-ubuntu',
        InstanceType: 'ecs.sn1.medium',
        ResourceType: 'OnDemand',
        ReserveOnFail: false,
      },
    }),
  );
  assert.equal(spec.notification, null);
  assert.equal(spec.tasks[0]?.clusterId, '');
  assert.equal(spec.tasks[0]?.autoCluster?.imageId, 'img-ubuntu');
  assert.equal(spec.tasks[0]?.packagePath, '');
  assert.deepEqual(spec.predecessors, { task: [] });
});

test('the CLI form with a ClusterId and AutoCluster {} is accepted', () => {
  const spec = validateJobDescription(cliBody({ ClusterId: 'cls-hangzhou_01', AutoCluster: {} }));
  assert.equal(spec.tasks[0]?.clusterId, 'cls-hangzhou_01');
  assert.equal(spec.tasks[0]?.autoCluster, null);
});

test('unknown fields anywhere are tolerated', () => {
  const body = JSON.parse(PYTHON_SDK_BODY) as Record<string, unknown>;
  body.FutureField = { nested: true };
  const dag = body.DAG as { Tasks: Record<string, Record<string, unknown>>; Extra?: unknown };
  dag.Extra = 1;
  dag.Tasks.count!.Gpu = 'maybe';
  assert.equal(validateJobDescription(body).tasks.length, 2);
});
