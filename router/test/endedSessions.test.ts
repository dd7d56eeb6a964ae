import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Registry } from 'prom-client';

import { EndedSessions, feedAgeGauge, sessionEnded } from '../src/endedSessions.ts';

test('the feed is read from the last cursor; entries past their tokens are dropped; an outage keeps the set', async () => {
  const now = Math.floor(Date.now() / 1000);
  const cursors: (string | undefined)[] = [];
  let answer: () => object = () => ({
    cursor: 'c1',
    ended: [
      { sid: 'a', reason: 'LOGOUT', until: now + 600 },
      { sid: 'old', reason: 'LOGOUT', until: now - 1 },
    ],
  });
  const sessions = new EndedSessions(async (cursor) => (cursors.push(cursor), answer() as never));
  await sessions.poll();
  assert.deepEqual(sessions.get('a'), { reason: 'LOGOUT', until: now + 600 });
  assert.equal(sessions.get('old'), undefined);
  answer = () => {
    throw new Error('purchase down');
  };
  await sessions.poll();
  assert.ok(sessions.get('a'));
  answer = () => ({ cursor: 'c2', ended: [] });
  await sessions.poll();
  assert.deepEqual(cursors, [undefined, 'c1', 'c1']);
  assert.equal(sessionEnded('DISABLED'), 'Session ended: the account is disabled');
});

test("the feed's age is a metric", async () => {
  const sessions = new EndedSessions(async () => ({ cursor: 'c', ended: [] }));
  const registry = new Registry();
  feedAgeGauge(sessions, registry);
  assert.match(await registry.metrics(), /service_tree_router_ended_sessions_age_seconds Nan/);
  await sessions.poll();
  const [, age] = /service_tree_router_ended_sessions_age_seconds ([0-9.e-]+)/.exec(await registry.metrics()) ?? [];
  assert.ok(Number(age) >= 0 && Number(age) < 5, age);
});
