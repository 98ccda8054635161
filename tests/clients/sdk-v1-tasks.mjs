// The TypeScript SDK v1 client's experimental tasks (protocol revision
// 2025-11-25) against dispatch-mcp: callToolStream to completed and to
// failed, getTask, getTaskResult, listTasks, cancelTask and the status
// notifications, each answer checked by the client's own schemas.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, TaskStatusNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { bin, serverEnv, check, checkThrows, summary } from './common.mjs';

const { env } = serverEnv();
const client = new Client({ name: 'sdk-v1-tasks', version: '1.0.0' });
const notes = [];
client.setNotificationHandler(TaskStatusNotificationSchema, (n) => { notes.push(n.params); });
await client.connect(new StdioClientTransport({ command: bin, args: [], env, stderr: 'pipe' }));

const caps = client.getServerCapabilities();
check('capabilities.tasks: tools/call, list and cancel', caps?.tasks?.requests?.tools?.call !== undefined &&
  caps?.tasks?.list !== undefined && caps?.tasks?.cancel !== undefined);
const { tools } = await client.listTools();
check('dispatch_unit taskSupport optional, the others forbidden', tools.every((t) =>
  t.execution?.taskSupport === (t.name === 'dispatch_unit' ? 'optional' : 'forbidden')));

async function stream(task, options) {
  const seen = [];
  for await (const m of client.experimental.tasks.callToolStream({ name: 'dispatch_unit',
    arguments: { orguser: 'nash-forbes', repo: 'nash', task_description: task } },
  CallToolResultSchema, options)) {
    seen.push(m);
  }
  return seen;
}

// Without an explicit task option: the cached taskSupport makes it one.
const ok = await stream('sleep 1');
const created = ok.find((m) => m.type === 'taskCreated')?.task;
check('taskCreated first, working, id is the handle', ok[0]?.type === 'taskCreated' &&
  created?.status === 'working' && /^dsp-[0-9a-f]{32}$/.test(created?.taskId ?? ''));
check('taskCreated has createdAt, lastUpdatedAt, ttl null and pollInterval',
  !Number.isNaN(Date.parse(created?.createdAt)) && !Number.isNaN(Date.parse(created?.lastUpdatedAt)) &&
  created?.ttl === null && Number.isInteger(created?.pollInterval));
check('polled while working', ok.some((m) => m.type === 'taskStatus' && m.task.status === 'working'));
check('ends completed', ok.filter((m) => m.type === 'taskStatus').at(-1)?.task.status === 'completed');
const last = ok.at(-1);
check('the result is dispatch_result\'s', last?.type === 'result' &&
  last.result.structuredContent?.status === 'succeeded' &&
  last.result.structuredContent?.handle === created?.taskId &&
  last.result.structuredContent?.detail === 'slept' &&
  last.result._meta?.['io.modelcontextprotocol/related-task']?.taskId === created?.taskId);

const bad = await stream('fail', { task: { ttl: 60000 } });
const failedId = bad[0]?.task?.taskId;
check('a failed lane ends failed', bad.filter((m) => m.type === 'taskStatus').at(-1)?.task.status === 'failed');
check('and the stream ends with its error', bad.at(-1)?.type === 'error' &&
  /failed/.test(bad.at(-1).error?.message ?? ''));

const got = await client.experimental.tasks.getTask(failedId);
check('getTask: failed, and says why', got.status === 'failed' &&
  got.statusMessage === 'The lane failed: it exited with status 2.' && got.ttl === null &&
  Date.parse(got.lastUpdatedAt) >= Date.parse(got.createdAt));
const res = await client.experimental.tasks.getTaskResult(failedId, CallToolResultSchema);
check('getTaskResult: the failed outcome', res.structuredContent?.status === 'failed' &&
  res.structuredContent?.returncode === 2 &&
  res._meta?.['io.modelcontextprotocol/related-task']?.taskId === failedId);

const listed = await client.experimental.tasks.listTasks();
check('listTasks: both, in order', listed.tasks.map((t) => t.taskId).join() ===
  [created?.taskId, failedId].join() && listed.tasks.map((t) => t.status).join() === 'completed,failed' &&
  listed.nextCursor === undefined);
await checkThrows('getTask of an unknown id is -32602',
  () => client.experimental.tasks.getTask('dsp-00000000000000000000000000000000'), (e) => e.code === -32602);
await checkThrows('listTasks with a bad cursor is -32602',
  () => client.experimental.tasks.listTasks('nope'), (e) => e.code === -32602);

// The notifications may trail the results by a line.
for (let i = 0; i < 20 && notes.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
check('notifications/tasks/status for each, final', notes.map((n) => `${n.taskId}:${n.status}`).join() ===
  [`${created?.taskId}:completed`, `${failedId}:failed`].join());

// cancelTask: the broker ends the lane, and the answer is the task
// already cancelled; the stream then ends as the client ends one.
const gen = client.experimental.tasks.callToolStream({ name: 'dispatch_unit',
  arguments: { orguser: 'nash-forbes', repo: 'nash', task_description: 'sleep 30' } },
CallToolResultSchema, { task: { ttl: 60000 } });
const first = (await gen.next()).value;
const cancelled = await client.experimental.tasks.cancelTask(first?.task?.taskId);
check('cancelTask: the task, cancelled', cancelled.status === 'cancelled' &&
  cancelled.taskId === first?.task?.taskId && cancelled.ttl === null);
const rest = [];
for await (const m of gen) rest.push(m);
check('the stream ends cancelled', rest.at(-1)?.type === 'error' &&
  /cancelled/.test(rest.at(-1).error?.message ?? ''));
check('getTask: still cancelled', (await client.experimental.tasks.getTask(first?.task?.taskId)).status ===
  'cancelled');
await checkThrows('cancelTask of a final task is -32602',
  () => client.experimental.tasks.cancelTask(first?.task?.taskId), (e) => e.code === -32602);

// A plain call is as before: the handle at once, no task.
const plain = await client.callTool({ name: 'dispatch_unit',
  arguments: { orguser: 'nash-forbes', repo: 'nash', task_description: 'plain' } });
check('a plain callTool still returns the handle', /^dsp-/.test(plain.structuredContent?.handle ?? ''));

await client.close();
process.exit(summary('sdk-v1-tasks'));
