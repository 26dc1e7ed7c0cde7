"""Unit tests of shopcase_sdk, natively, against the bindings componentize-py
generates (``componentize-py -d wit/v0.1.0 -w plugin bindings DIR``) with the
host functions replaced by fakes.

    SHOPCASE_PY_BINDINGS=DIR PYTHONPATH=sdk/python python -m unittest discover -s sdk/python/tests

``cargo xtask`` runs them (see ``xtask/src/guests.rs``, ``test_sdks``).
"""

import json
import os
import pathlib
import sys
import unittest

_BINDINGS = os.environ.get("SHOPCASE_PY_BINDINGS")
if not _BINDINGS:
    raise unittest.SkipTest("SHOPCASE_PY_BINDINGS is not set (generate the bindings with componentize-py)")
sys.path.insert(0, _BINDINGS)
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from componentize_py_types import Err  # noqa: E402
from wit_world.imports import host as wit_host  # noqa: E402
from wit_world.imports import types  # noqa: E402

import shopcase_sdk as sdk  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[3]


class FakeHost:
    """Settings, logs and a key-value store, installed over the bindings' imports."""

    def __init__(self):
        self.settings = {}
        self.logs = []
        self.kv = {}
        self.error = None

    def install(self, case):
        for name in ("log", "setting", "kv_get", "kv_set", "kv_delete", "customer_history", "linked_case"):
            original = getattr(wit_host, name)
            setattr(wit_host, name, getattr(self, name))
            case.addCleanup(setattr, wit_host, name, original)

    def _fail(self):
        if self.error is not None:
            raise Err(self.error)

    def log(self, level, message):
        self.logs.append((level, message))

    def setting(self, name):
        return self.settings.get(name)

    def kv_get(self, key):
        self._fail()
        return self.kv.get(key)

    def kv_set(self, key, value, ttl):
        self._fail()
        self.kv[key] = value

    def kv_delete(self, key):
        self._fail()
        self.kv.pop(key, None)

    def customer_history(self, customer_id):
        self._fail()
        raise AssertionError("not used")

    def linked_case(self, key):
        self._fail()
        return None


def raw_event(payload, order_id=None):
    resources = types.Resources(
        order_id=order_id, customer_id=None, return_id=None, dispute_id=None, fulfillment_id=None, case_id=None
    )
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return types.Event(
        id="evt_1", shopify_event_id=None, shop="demo.myshopify.com", topic="orders/create",
        api_version="2026-07", triggered_at="2026-11-26T10:00:00Z", resources=resources, payload=text,
    )


class SdkTest(unittest.TestCase):
    def setUp(self):
        self.host = FakeHost()
        self.host.install(self)

    def error_of(self, handler, event):
        with self.assertRaises(Err) as cm:
            handler().handle(event)
        self.assertIsInstance(cm.exception.value, types.PluginError)
        return cm.exception.value

    def test_builders_make_wit_actions(self):
        key = sdk.case_key("big", sdk.Subject.order(7))
        case = sdk.OpenCase(key, "Big").summary("s").priority(sdk.Priority.HIGH).owner_group("ops").attribute("n", 2)
        action = sdk.to_action(case)
        self.assertIsInstance(action, types.Action_OpenCase)
        self.assertEqual(action.value.priority, types.Priority.HIGH)
        self.assertEqual(action.value.owner_group, "ops")
        self.assertEqual(action.value.attributes, [types.Attribute(name="n", value="2")])
        tags = sdk.to_action(sdk.shopify.tags_add(sdk.Target.order(7), ["x"]))
        self.assertEqual(tags, types.Action_Shopify(types.ShopifyOperation_TagsAdd(
            types.TagsChange(target=types.Target_Order(7), tags=["x"]))))
        self.assertEqual(sdk.follow_up("t", "2026-12-01T00:00:00Z", {"n": 1}).value.data, '{"n": 1}')
        self.assertEqual(sdk.Document.text("a.txt", "d", "hi").content, b"hi")
        with self.assertRaises(sdk.PluginError):
            sdk.to_action("launch missiles")

    def test_errors_become_plugin_errors(self):
        def handle(event):
            order = event.order()
            if order.total_price_float() is None:
                raise sdk.PluginError("no total")
            if order.name == "#boom":
                return 1 / 0
            if order.name == "#retry":
                raise sdk.PluginError.retry_later("later")
            return [sdk.shopify.tags_add(sdk.Target.order(event.order_id()), [order.currency])]

        handler = sdk.plugin(handle)
        ok = handler().handle(raw_event({"total_price": "10.00", "currency": "EUR"}, order_id=9007199254740993))
        self.assertEqual(ok[0].value.value.target, types.Target_Order(9007199254740993))
        self.assertEqual(self.error_of(handler, raw_event({})), types.PluginError(message="no total", retryable=False))
        boom = self.error_of(handler, raw_event({"total_price": "1", "name": "#boom"}))
        self.assertEqual(boom.message, "uncaught ZeroDivisionError: division by zero")
        retry = self.error_of(handler, raw_event({"total_price": "1", "name": "#retry"}))
        self.assertTrue(retry.retryable)
        self.assertIn("payload is not JSON", self.error_of(handler, raw_event("not json")).message)
        self.assertEqual(len(sdk.PluginError("é" * 1500).to_wit().message), 1000)
        no_id = sdk.plugin(lambda e: [sdk.shopify.tags_add(sdk.Target.order(e.order_id()), ["x"])])
        self.assertIn("orders/create event evt_1 has no order", self.error_of(no_id, raw_event({})).message)

    def test_money_is_strict(self):
        for bad in ["", "1e3", " 12", "+1", "1,000.00", "1.", ".5", "nan", "inf", "0x10", "١٢"]:
            self.assertIsNone(sdk.money.parse_float(bad), bad)
        self.assertEqual(sdk.money.parse_float("612.40"), 612.4)
        self.assertEqual(sdk.money.parse_cents("1243.87"), 124387)
        self.assertEqual(sdk.money.parse_cents("-0.05"), -5)
        self.assertIsNone(sdk.money.parse_cents("1.505"))
        self.assertEqual(sdk.money.parse_cents("1.500"), 150)
        self.assertEqual(sdk.money.format_cents(-5), "-0.05")
        self.assertEqual(sdk.money.format_number(500.0), "500")
        self.assertEqual(sdk.money.format_number(750.5), "750.5")
        self.assertEqual(sdk.money.format_number(0.1), "0.1")

    def test_settings_logs_and_kv_go_through_the_host(self):
        self.host.settings = {
            "threshold": wit_host.SettingValue_Number(750.5),
            "count": wit_host.SettingValue_Integer(3),
            "team": wit_host.SettingValue_Text("vip"),
            "tags": wit_host.SettingValue_TextList(["a"]),
            "on": wit_host.SettingValue_Boolean(True),
        }
        self.assertEqual(sdk.host.setting_number("threshold", 1.0), 750.5)
        self.assertEqual(sdk.host.setting_number("count", 1.0), 3.0)
        self.assertEqual(sdk.host.setting_number("missing", 500.0), 500.0)
        self.assertEqual(sdk.host.setting_text("threshold", "d"), "d")
        self.assertEqual(sdk.host.setting_integer("count", 0), 3)
        self.assertEqual(sdk.host.setting_list("tags", []), ["a"])
        self.assertTrue(sdk.host.setting_bool("on", False))
        self.assertEqual(sdk.host.setting("team"), "vip")
        self.assertIsNone(sdk.host.setting("missing"))

        sdk.log.info("one")
        sdk.log.warn(2)
        self.assertEqual(self.host.logs, [(wit_host.Level.INFO, "one"), (wit_host.Level.WARN, "2")])

        sdk.kv.set("k", "v", 60)
        self.assertEqual(sdk.kv.get("k"), "v")
        sdk.kv.delete("k")
        self.assertIsNone(sdk.kv.get("k"))
        self.host.error = wit_host.HostError_Unavailable("Shopify timed out")
        with self.assertRaises(sdk.HostError) as cm:
            sdk.kv.get("k")
        self.assertTrue(cm.exception.retryable)
        err = self.error_of(sdk.plugin(lambda e: [sdk.kv.get("k")]), raw_event({}))
        self.assertEqual(err, types.PluginError(message="host function failed: unavailable: Shopify timed out", retryable=True))

    def test_the_order_view_is_tolerant(self):
        path = REPO / "examples/fixtures/high-value-order/events/realistic-order.json"
        order = sdk.Order(json.loads(path.read_text())["payload"])
        self.assertEqual(order.name, "#2126")
        self.assertEqual(order.total_price, "1487.60")
        self.assertEqual(len(order.line_items), 4)
        self.assertEqual(order.item_count(), 10)
        self.assertEqual(order.tags(), ["wholesale", "repeat-customer"])
        self.assertTrue(order.has_tag("WHOLESALE"))
        self.assertEqual(order.fulfillment_status, "")
        empty = sdk.Order(None)
        self.assertEqual((empty.name, empty.test, empty.line_items, empty.customer_id), ("", False, [], None))


if __name__ == "__main__":
    unittest.main()
