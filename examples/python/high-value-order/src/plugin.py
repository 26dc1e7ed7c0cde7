"""high-value-order, in Python: on ``orders/create``, when the order's total
reaches the ``threshold`` setting, open a case for the sales team and tag
the order.

The same behaviour is written in Rust, JavaScript and C beside this one, and
all four pass the same conformance fixtures
(``examples/fixtures/high-value-order``)::

    shopcase plugin build --dir examples/python/high-value-order
    shopcase plugin test --plugin examples/python/high-value-order/dist/high-value-order \\
        --fixtures examples/fixtures/high-value-order

1. ``total_price`` must be a decimal string; missing or anything else fails
   with the non-retryable error ``order payload has no total_price``.
2. A test order (``"test": true``) needs nothing.
3. Below the ``threshold`` setting (number, default 500) needs nothing.
4. Otherwise: ``open-case`` (priority ``critical`` from 4x the threshold,
   ``high`` from 2x, else ``medium``), then ``tags-add`` of the ``tag``
   setting, and one info log line.
"""

from collections.abc import Sequence

from shopcase_sdk import (
    ActionLike, Event, OpenCase, PluginError, Priority, Target, host, log, money, plugin, shopify,
)

#: The case type this plugin opens (granted in plugin.toml).
CASE_TYPE = "high-value-order"


def handle(event: Event) -> Sequence[ActionLike]:
    order = event.order()
    total = order.total_price_float()
    if total is None:
        raise PluginError("order payload has no total_price")
    if order.test:
        return []
    threshold = host.setting_number("threshold", 500.0)
    if total < threshold:
        return []
    if total >= 4 * threshold:
        priority = Priority.CRITICAL
    elif total >= 2 * threshold:
        priority = Priority.HIGH
    else:
        priority = Priority.MEDIUM
    team = host.setting_text("team", "sales-ops")
    tag = host.setting_text("tag", "high-value")
    name, price, currency = order.name, order.total_price, order.currency

    # format_number prints 500.0 as "500" and 750.5 as "750.5", as the
    # other languages do.
    case = (
        OpenCase(event.order_key(CASE_TYPE), f"High-value order {name}")
        .summary(f"Order {name} totals {price} {currency}, above the {money.format_number(threshold)} threshold.")
        .priority(priority)
        .owner_group(team)
        .attribute("orderName", name)
        .attribute("totalPrice", price)
        .attribute("currency", currency)
        .attribute("lineItems", len(order.line_items))
    )
    tags = shopify.tags_add(Target.order(event.order_id()), [tag])
    log.info(f"order {name} above threshold: {price} {currency}")
    return [case, tags]


#: The component's `handler` export.
Handler = plugin(handle)
