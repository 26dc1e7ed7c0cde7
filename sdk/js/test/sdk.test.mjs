// Unit tests of @shopcase/sdk, natively under Node with a fake host:
//   node --import ./sdk/js/test/register.mjs --test sdk/js/test/sdk.test.mjs
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { beforeEach, test } from 'node:test';

import * as fake from './fake-host.mjs';
import {
  Document, HostError, OpenCase, PluginError, Priority, Target, UpdateCase, comment, definePlugin, followUp, host,
  kv, log, money, shopify, toAction,
} from '@shopcase/sdk';

beforeEach(() => fake.reset());

function rawEvent(payload, resources = {}) {
  return {
    id: 'evt_1', shopifyEventId: undefined, shop: 'demo.myshopify.com', topic: 'orders/create',
    apiVersion: '2026-07', triggeredAt: '2026-11-26T10:00:00Z', resources, payload: JSON.stringify(payload),
  };
}

test('builders and operations become WIT actions', () => {
  const key = { caseType: 'big', subject: { tag: 'order', val: 7n } };
  const actions = [
    new OpenCase(key, 'Big').summary('s').priority(Priority.HIGH).ownerGroup('ops').attribute('n', 2),
    shopify.tagsAdd(Target.order(7), ['x']),
    new UpdateCase(key).status('in-progress').escalationLevel(2),
    comment.internal(key, 'hello'),
  ].map(toAction);
  assert.deepEqual(actions[0], {
    tag: 'open-case',
    val: {
      key, title: 'Big', summary: 's', priority: 'high', owner: undefined, ownerGroup: 'ops', due: undefined,
      attributes: [{ name: 'n', value: '2' }], documents: [],
    },
  });
  assert.deepEqual(actions[1], { tag: 'shopify', val: { tag: 'tags-add', val: { target: { tag: 'order', val: 7n }, tags: ['x'] } } });
  assert.equal(actions[2].tag, 'update-case');
  assert.equal(actions[2].val.status, 'in-progress');
  assert.equal(actions[3].val.visibility, 'internal');
  assert.equal(followUp('t', '2026-12-01T00:00:00Z', { n: 1 }).val.data, '{"n":1}');
  assert.deepEqual(Array.from(Document.text('a.txt', 'd', 'hi').content), [104, 105]);
  assert.throws(() => toAction({ tag: 'launch-missiles' }), PluginError);
});

test('the handler gets an event view and its errors become plugin errors', () => {
  const handler = definePlugin((event) => {
    const order = event.order();
    if (order.totalPriceNumber() === undefined) throw new PluginError('no total');
    if (order.name === '#boom') throw new TypeError('oops');
    if (order.name === '#retry') throw PluginError.retryLater('later');
    return [shopify.tagsAdd(Target.order(event.orderId()), [order.currency])];
  });
  const ok = handler.handle(rawEvent({ total_price: '10.00', currency: 'EUR', name: '#1' }, { orderId: 9007199254740993n }));
  assert.equal(ok[0].val.val.target.val, 9007199254740993n, 'ids from the envelope stay exact');

  const payloadOf = (f) => {
    try {
      f();
    } catch (e) {
      return e.payload;
    }
    assert.fail('expected a throw');
  };
  assert.deepEqual(payloadOf(() => handler.handle(rawEvent({}))), { message: 'no total', retryable: false });
  assert.deepEqual(payloadOf(() => handler.handle(rawEvent({ total_price: '1', name: '#boom' }))), {
    message: 'uncaught TypeError: oops', retryable: false,
  });
  assert.deepEqual(payloadOf(() => handler.handle(rawEvent({ total_price: '1', name: '#retry' }))), {
    message: 'later', retryable: true,
  });
  assert.deepEqual(payloadOf(() => handler.handle({ ...rawEvent({}), payload: 'not json' })).retryable, false);
  const long = new PluginError('é'.repeat(1500));
  assert.equal(Array.from(long.payload.message).length, 1000);
  // An order event without an order id is the plugin's error, named.
  const noId = definePlugin((event) => [shopify.tagsAdd(Target.order(event.orderId()), ['x'])]);
  assert.match(payloadOf(() => noId.handle(rawEvent({}))).message, /orders\/create event evt_1 has no order/);
});

test('money is strict decimal strings', () => {
  for (const bad of ['', '1e3', ' 12', '+1', '1,000.00', '1.', '.5', 'NaN', '0x10']) {
    assert.equal(money.parseNumber(bad), undefined, bad);
  }
  assert.equal(money.parseNumber('612.40'), 612.4);
  assert.equal(money.parseCents('1243.87'), 124387);
  assert.equal(money.parseCents('-0.05'), -5);
  assert.equal(money.parseCents('1.505'), undefined);
  assert.equal(money.parseCents('1.500'), 150);
  assert.equal(money.formatCents(-5), '-0.05');
  assert.equal(money.formatCents(124387), '1243.87');
});

test('settings, logs and the key-value store go through the host', () => {
  fake.state.settings = {
    threshold: { tag: 'number', val: 750.5 },
    count: { tag: 'integer', val: 3n },
    team: { tag: 'text', val: 'vip' },
    tags: { tag: 'text-list', val: ['a'] },
    on: { tag: 'boolean', val: true },
  };
  assert.equal(host.settingNumber('threshold', 1), 750.5);
  assert.equal(host.settingNumber('count', 1), 3);
  assert.equal(host.settingNumber('missing', 500), 500);
  assert.equal(host.settingText('threshold', 'd'), 'd', 'a number is not text');
  assert.equal(host.settingInteger('count', 0), 3);
  assert.deepEqual(host.settingList('tags', []), ['a']);
  assert.equal(host.settingBool('on', false), true);
  assert.equal(host.setting('team'), 'vip');
  assert.equal(host.setting('missing'), undefined);

  log.info('one');
  log.warn(2);
  assert.deepEqual(fake.state.logs, [{ level: 'info', message: 'one' }, { level: 'warn', message: '2' }]);

  kv.set('k', 'v', { ttlSeconds: 60 });
  assert.equal(kv.get('k'), 'v');
  assert.equal(fake.state.lastTtl, 60);
  kv.delete('k');
  assert.equal(kv.get('k'), undefined);

  fake.state.hostError = { tag: 'unavailable', val: 'Shopify timed out' };
  assert.throws(() => kv.get('k'), (e) => e instanceof HostError && e.retryable && e.kind === 'unavailable');
  const handler = definePlugin(() => [kv.get('k')]);
  try {
    handler.handle(rawEvent({}));
    assert.fail('expected a throw');
  } catch (e) {
    assert.deepEqual(e.payload, { message: 'host function failed: unavailable: Shopify timed out', retryable: true });
  }
});

test('the order view is tolerant of missing and null fields', async () => {
  const file = JSON.parse(await readFile(new URL('../../../examples/fixtures/high-value-order/events/realistic-order.json', import.meta.url)));
  const handler = definePlugin((event) => {
    const o = event.order();
    assert.equal(o.name, '#2126');
    assert.equal(o.totalPrice, '1487.60');
    assert.equal(o.lineItems.length, 4);
    assert.equal(o.itemCount(), 10);
    assert.deepEqual(o.tags(), ['wholesale', 'repeat-customer']);
    assert.equal(o.hasTag('WHOLESALE'), true);
    assert.equal(o.fulfillmentStatus, '');
    const empty = new (o.constructor)(null);
    assert.equal(empty.name, '');
    assert.equal(empty.test, false);
    assert.deepEqual(empty.lineItems, []);
    return [];
  });
  assert.deepEqual(handler.handle(rawEvent(file.payload, { orderId: 1n })), []);
});
