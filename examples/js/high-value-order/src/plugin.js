// high-value-order, in JavaScript: on `orders/create`, when the order's
// total reaches the `threshold` setting, open a case for the sales team and
// tag the order.
//
// The same behaviour is written in Rust, Python and C beside this one, and
// all four pass the same conformance fixtures
// (examples/fixtures/high-value-order):
//
//   shopcase plugin build --dir examples/js/high-value-order
//   shopcase plugin test --plugin examples/js/high-value-order/dist/high-value-order \
//       --fixtures examples/fixtures/high-value-order
//
// 1. `total_price` must be a decimal string; missing or anything else fails
//    with the non-retryable error `order payload has no total_price`.
// 2. A test order (`"test": true`) needs nothing.
// 3. Below the `threshold` setting (number, default 500) needs nothing.
// 4. Otherwise: `open-case` (priority `critical` from 4x the threshold,
//    `high` from 2x, else `medium`), then `tags-add` of the `tag` setting,
//    and one info log line.

import { definePlugin, OpenCase, PluginError, Priority, Target, host, log, shopify } from '@shopcase/sdk';

/** The case type this plugin opens (granted in plugin.toml). */
const CASE_TYPE = 'high-value-order';

export const handler = definePlugin((event) => {
  const order = event.order();
  const total = order.totalPriceNumber();
  if (total === undefined) {
    throw new PluginError('order payload has no total_price');
  }
  if (order.test) {
    return [];
  }
  const threshold = host.settingNumber('threshold', 500);
  if (total < threshold) {
    return [];
  }
  const priority = total >= 4 * threshold ? Priority.CRITICAL : total >= 2 * threshold ? Priority.HIGH : Priority.MEDIUM;
  const team = host.settingText('team', 'sales-ops');
  const tag = host.settingText('tag', 'high-value');
  const { name, totalPrice, currency } = order;

  // String(500) is "500" and String(750.5) is "750.5", as in the other
  // languages. The order id comes from the envelope (an exact BigInt), not
  // from the payload, where ids above 2^53 would lose precision.
  const kase = new OpenCase(event.orderKey(CASE_TYPE), `High-value order ${name}`)
    .summary(`Order ${name} totals ${totalPrice} ${currency}, above the ${String(threshold)} threshold.`)
    .priority(priority)
    .ownerGroup(team)
    .attribute('orderName', name)
    .attribute('totalPrice', totalPrice)
    .attribute('currency', currency)
    .attribute('lineItems', order.lineItems.length);
  const tags = shopify.tagsAdd(Target.order(event.orderId()), [tag]);
  log.info(`order ${name} above threshold: ${totalPrice} ${currency}`);
  return [kase, tags];
});
