// The TypeScript SDK v1 client against dispatch-mcp over stdio.  The
// client validates structuredContent against each tool's outputSchema,
// so a schema that drifts from the output fails here.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { bin, serverEnv, check, checkThrows, summary } from './common.mjs';

const { env } = serverEnv();
const client = new Client({ name: 'sdk-v1-test', version: '1.0.0' });
await client.connect(new StdioClientTransport({ command: bin, args: [], env, stderr: 'pipe' }));

const info = client.getServerVersion();
check('serverInfo names dispatch-mcp', info?.name === 'dispatch-mcp');
check('instructions explain polling', /wait_seconds/.test(client.getInstructions() ?? ''));

const { tools } = await client.listTools();
check('five tools, in order', tools.map((t) => t.name).join() ===
  'dispatch_unit,dispatch_status,dispatch_result,dispatch_list,dispatch_cancel');
check('every tool has a title and an outputSchema',
  tools.every((t) => t.title && t.outputSchema && t.annotations));
check('dispatch_unit is not read-only and is open-world',
  tools[0].annotations.readOnlyHint === false && tools[0].annotations.openWorldHint === true);
check('dispatch_cancel is destructive and idempotent',
  tools[4].annotations.destructiveHint === true && tools[4].annotations.idempotentHint === true);

const unit = await client.callTool({ name: 'dispatch_unit',
  arguments: { orguser: 'nash-forbes', repo: 'nash', task_description: 'v1 says $(id)' } });
const handle = unit.structuredContent?.handle;
check('dispatch_unit returns a handle', !unit.isError && /^dsp-[0-9a-f]{32}$/.test(handle));
check('text content is the same JSON', JSON.parse(unit.content[0].text).handle === handle);

const st = await client.callTool({ name: 'dispatch_status', arguments: { handle } });
check('dispatch_status answers', ['running', 'succeeded'].includes(st.structuredContent?.status));

const res = await client.callTool({ name: 'dispatch_result', arguments: { handle, wait_seconds: 20 } });
check('dispatch_result waits for the end', res.structuredContent?.status === 'succeeded' &&
  res.structuredContent.returncode === 0 && res.structuredContent.detail === `ok ${handle}`);

const list = await client.callTool({ name: 'dispatch_list', arguments: {} });
check('dispatch_list counts one', list.structuredContent?.count === 1);

const bad = await client.callTool({ name: 'dispatch_unit',
  arguments: { orguser: 'reid-max', repo: 'nash', task_description: 'x' } });
check('a refused target is a tool error', bad.isError === true &&
  /does not own repo/.test(bad.content[0].text));
const badArg = await client.callTool({ name: 'dispatch_status', arguments: { handle: 'nope' } });
check('a bad handle is a tool error', badArg.isError === true);
const late = await client.callTool({ name: 'dispatch_cancel', arguments: { handle } });
check('cancelling a final dispatch is a tool error', late.isError === true &&
  /already final/.test(late.content[0].text));

await checkThrows('an unknown tool is -32602',
  () => client.callTool({ name: 'exec', arguments: {} }), (e) => e.code === -32602);
await client.ping();
check('ping', true);
await client.close();
process.exit(summary('sdk-v1'));
