// The TypeScript SDK v2 client, in its default (legacy) mode and with
// versionNegotiation auto, which probes server/discover in a throw-away
// process and then speaks 2026-07-28 statelessly.
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, serverEnv, check, checkThrows, summary } from './common.mjs';

async function session(label, options, era) {
  const { dir, env } = serverEnv();
  const client = new Client({ name: `sdk-v2-${label}`, version: '2.0.0' }, options);
  await client.connect(new StdioClientTransport({ command: bin, args: [], env, stderr: 'pipe' }));
  check(`${label}: era is ${era}`, client.getProtocolEra?.() === era, client.getProtocolEra?.());

  const { tools } = await client.listTools();
  check(`${label}: five tools`, tools.length === 5);
  const unit = await client.callTool({ name: 'dispatch_unit',
    arguments: { orguser: 'nash-forbes', repo: 'nash', task_description: `from ${label}` } });
  const handle = unit.structuredContent?.handle;
  check(`${label}: dispatch_unit`, !unit.isError && /^dsp-/.test(handle ?? ''));
  const res = await client.callTool({ name: 'dispatch_result', arguments: { handle, wait_seconds: 20 } });
  check(`${label}: dispatch_result`, res.structuredContent?.status === 'succeeded');
  const list = await client.callTool({ name: 'dispatch_list', arguments: {} });
  check(`${label}: dispatch_list`, list.structuredContent?.count >= 1);
  const bad = await client.callTool({ name: 'dispatch_unit',
    arguments: { orguser: 'ghost', repo: 'nash', task_description: 'x' } });
  check(`${label}: refusal is a tool error`, bad.isError === true);
  await checkThrows(`${label}: unknown tool is -32602`,
    () => client.callTool({ name: 'shell', arguments: {} }), (e) => e.code === -32602);
  if (era === 'legacy') {
    await client.ping();
    check(`${label}: ping`, true);
  }
  await client.close();
  // The audit log names this client, whatever the era.
  const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map(JSON.parse);
  check(`${label}: audited under the client's name`,
    audit.some((r) => r.event === 'dispatch' && r.client.name === `sdk-v2-${label}`));
}

await session('legacy', {}, 'legacy');
await session('auto', { versionNegotiation: { mode: 'auto' } }, 'modern');
process.exit(summary('sdk-v2'));
