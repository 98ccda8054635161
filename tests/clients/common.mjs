// Shared set-up for the client tests: a server environment in a fresh
// directory (allowlist, audit log, test lane), and a tiny check counter.
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const bin = process.env.DISPATCH_MCP_BIN;
export const lanes = process.env.TEST_LANES;

const dirs = [];
process.on('exit', () => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

export function serverEnv() {
  const dir = mkdtempSync(join(tmpdir(), 'dispatch-client-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'lanes'), { mode: 0o777 });
  writeFileSync(join(dir, 'repos.json'), JSON.stringify({
    orgs: { 'nash-forbes': {}, 'reid-max': {} },
    repos: {
      nash: { org: 'nash-forbes', github: 'selamy-labs/nash' },
      reid: { org: 'reid-max', github: 'selamy-labs/reid' },
    },
  }));
  return {
    dir,
    env: {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      DISPATCH_REPOS_JSON: join(dir, 'repos.json'),
      DISPATCH_AUDIT_LOG: join(dir, 'audit.jsonl'),
      DISPATCH_COMMAND: join(lanes, 'record-lane'),
      DISPATCH_ENV_PASS: 'LANE_DIR',
      LANE_DIR: join(dir, 'lanes'),
    },
  };
}

let passed = 0, failed = 0;
export function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok - ${name}`);
  } else {
    failed++;
    console.log(`not ok - ${name}${detail ? ': ' + detail : ''}`);
  }
}
export async function checkThrows(name, fn, pred) {
  try {
    await fn();
    check(name, false, 'did not throw');
  } catch (e) {
    check(name, pred(e), String(e));
  }
}
export function summary(label) {
  console.log(`${label}: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}
