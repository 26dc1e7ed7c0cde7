"""shopcase_sdk: write shopcase plugins in Python.

A shopcase plugin is a WebAssembly component that turns one event (a
Shopify webhook, a Core Case update, a timer) into a list of typed actions
the host validates and executes. This package wraps the WIT contract
(``wit/v0.1.0``, package ``shopcase:plugin@0.1.0``) as componentize-py
generates it (the ``wit_world`` package), so a plugin reads like the Rust
one::

    from shopcase_sdk import OpenCase, PluginError, Priority, Target, host, log, plugin, shopify

    def handle(event):
        order = event.order()
        total = order.total_price_float()
        if total is None:
            raise PluginError("order payload has no total_price")
        if order.test or total < host.setting_number("threshold", 500.0):
            return []
        log.info(f"order {order.name} is big")
        return [
            OpenCase(event.order_key("big-order"), f"Big order {order.name}").priority(Priority.HIGH),
            shopify.tags_add(Target.order(event.order_id()), ["big-order"]),
        ]

    Handler = plugin(handle)

``shopcase plugin build`` puts this package on the component's Python path
and runs ``componentize-py --stub-wasi``.

Layout:

- errors: :class:`PluginError` (what a plugin raises), :class:`HostError`
  (what host calls raise);
- :func:`plugin`: the export wrapper (event view in, WIT actions out);
- :class:`Event`: the envelope, own ids, case keys; :class:`Order` and the
  other payload views;
- :mod:`money <shopcase_sdk.money>`-style helpers: strict decimal strings;
- action builders: case actions, :data:`shopify` operations, keys,
  subjects, targets;
- host functions: :data:`host` (settings, history, case links), :data:`log`,
  :data:`kv`.

Every module is imported at the top, so componentize-py's snapshot (taken
after importing the plugin) already holds them compiled: an event starts
from an initialised interpreter.
"""

import json
import re

from componentize_py_types import Err
from wit_world.imports import host as _wit_host
from wit_world.imports import types as _types

__all__ = [
    "CaseStatus", "CreateTask", "Document", "Event", "HostError", "Order", "OpenCase", "PluginError",
    "Priority", "RequestApproval", "Subject", "Target", "UpdateCase", "attach_document", "case_key",
    "comment", "follow_up", "host", "kv", "log", "money", "plugin", "shopify", "split_tags", "to_action",
]

# ---- errors ----------------------------------------------------------------

#: The longest plugin-error message the contract allows (characters).
MAX_MESSAGE_CHARS = 1000


class PluginError(Exception):
    """A plugin's own failure for one event (the WIT ``plugin-error``).

    Raise it from the handler. A non-retryable error dead-letters the event
    for this plugin at once; a retryable one (:meth:`retry_later`) is run
    again later by the host.
    """

    def __init__(self, message, retryable=False):
        super().__init__(str(message))
        self.message = str(message)
        self.retryable = bool(retryable)

    @classmethod
    def retry_later(cls, message):
        """A failure that may go away (e.g. a host function was unavailable)."""
        return cls(message, retryable=True)

    def to_wit(self):
        """The WIT ``plugin-error`` (message cut to 1000 characters)."""
        return _types.PluginError(message=self.message[:MAX_MESSAGE_CHARS], retryable=self.retryable)


class HostError(Exception):
    """A host function could not answer (the WIT ``host-error``).

    ``kind`` is ``quota-exceeded``, ``invalid-argument`` or ``unavailable``.
    Unhandled, it fails the invocation like ``?`` does in Rust: retryable
    only when ``unavailable``.
    """

    def __init__(self, kind, detail):
        super().__init__(f"host function failed: {kind.replace('-', ' ')}: {detail}")
        self.kind = kind
        self.detail = detail

    @property
    def retryable(self):
        """Whether running the event again later could succeed."""
        return self.kind == "unavailable"

    def to_plugin_error(self):
        """The plugin error this host error becomes when it is not handled."""
        return PluginError(str(self), retryable=self.retryable)


_HOST_ERROR_KINDS = {
    _wit_host.HostError_QuotaExceeded: "quota-exceeded",
    _wit_host.HostError_InvalidArgument: "invalid-argument",
    _wit_host.HostError_Unavailable: "unavailable",
}


def _host_call(f, *args):
    """Call a WIT import whose result is ``result<T, host-error>``."""
    try:
        return f(*args)
    except Err as e:
        kind = _HOST_ERROR_KINDS.get(type(e.value), "unavailable")
        raise HostError(kind, getattr(e.value, "value", str(e.value))) from None


# ---- the export --------------------------------------------------------------


def plugin(handle):
    """Make the component's ``Handler`` export from ``handle(event) -> actions``.

    ``handle`` gets an :class:`Event` and returns a list of actions: builders
    (:class:`OpenCase`...), Shopify operations (:data:`shopify`) or raw WIT
    values. Raise :class:`PluginError` to fail; any other uncaught exception
    becomes a non-retryable plugin error naming it (an unhandled
    :class:`HostError` becomes what ``to_plugin_error()`` says), so the admin
    sees a message rather than a bare trap. Use it as
    ``Handler = plugin(handle)`` in the plugin's module.
    """
    if not callable(handle):
        raise TypeError("plugin() expects a function handle(event) -> actions")

    class Handler:
        def handle(self, event):
            try:
                out = handle(Event(event))
                if not isinstance(out, (list, tuple)):
                    raise PluginError(f"the handler returned {type(out).__name__}, not a list of actions")
                return [to_action(a) for a in out]
            except PluginError as e:
                raise Err(e.to_wit()) from None
            except HostError as e:
                raise Err(e.to_plugin_error().to_wit()) from None
            except Err:
                raise
            except Exception as e:  # noqa: BLE001 - every failure must become a value
                raise Err(PluginError(f"uncaught {type(e).__name__}: {e}").to_wit()) from None

    Handler.__name__ = "Handler"
    Handler.__doc__ = handle.__doc__
    return Handler


_ACTION_TYPES = (
    _types.Action_OpenCase, _types.Action_UpdateCase, _types.Action_Comment, _types.Action_AttachDocument,
    _types.Action_CreateTask, _types.Action_RequestApproval, _types.Action_FollowUp, _types.Action_Shopify,
)
_SHOPIFY_TYPES = (
    _types.ShopifyOperation_TagsAdd, _types.ShopifyOperation_TagsRemove, _types.ShopifyOperation_NoteAppend,
    _types.ShopifyOperation_SetMetafield, _types.ShopifyOperation_HoldFulfillment,
    _types.ShopifyOperation_ReleaseFulfillment, _types.ShopifyOperation_CancelOrder,
    _types.ShopifyOperation_ApproveReturn, _types.ShopifyOperation_DeclineReturn, _types.ShopifyOperation_Refund,
    _types.ShopifyOperation_StoreCredit,
)


def to_action(a):
    """A builder, a Shopify operation or a WIT action -> a WIT action."""
    if hasattr(a, "to_action"):
        return a.to_action()
    if isinstance(a, _ACTION_TYPES):
        return a
    if isinstance(a, _SHOPIFY_TYPES):
        return _types.Action_Shopify(a)
    raise PluginError(f"not an action: {type(a).__name__}")


# ---- the event ---------------------------------------------------------------


class Event:
    """One event: the envelope fields, the ``resources`` the host filled
    (prefer them to ids read from the payload: they are the ones actions may
    name), and the payload as JSON text with typed views."""

    def __init__(self, raw):
        #: The host's id for this event, stable across retries.
        self.id = raw.id
        #: Shopify's ``X-Shopify-Event-Id``, or ``None`` for host events.
        self.shopify_event_id = raw.shopify_event_id
        #: The store's ``*.myshopify.com`` domain.
        self.shop = raw.shop
        #: e.g. ``orders/create``.
        self.topic = raw.topic
        #: The Admin API version of the payload, e.g. ``2026-07``.
        self.api_version = raw.api_version
        #: When the event happened: the plugin's only "now" (RFC 3339).
        self.triggered_at = raw.triggered_at
        #: ``order_id``, ``customer_id``, ``return_id``, ``dispute_id``,
        #: ``fulfillment_id`` (ints or ``None``), ``case_id`` (str or ``None``).
        self.resources = raw.resources
        #: The payload as JSON text.
        self.payload_text = raw.payload
        self._payload = None

    def payload(self):
        """The payload, parsed (once)."""
        if self._payload is None:
            try:
                self._payload = json.loads(self.payload_text)
            except ValueError as e:
                raise PluginError(f"{self.topic} payload is not JSON: {e}") from None
        return self._payload

    def order(self):
        """The payload of ``orders/*`` topics, as an :class:`Order` view."""
        return Order(self.payload())

    def _own(self, field, what):
        v = getattr(self.resources, field)
        if v is None:
            raise PluginError(f"{self.topic} event {self.id} has no {what}")
        return v

    def order_id(self):
        """The event's own order id, or a PluginError naming what is missing."""
        return self._own("order_id", "order")

    def customer_id(self):
        """The event's own customer id."""
        return self._own("customer_id", "customer")

    def return_id(self):
        """The event's own return id."""
        return self._own("return_id", "return")

    def dispute_id(self):
        """The event's own dispute id."""
        return self._own("dispute_id", "dispute")

    def fulfillment_id(self):
        """The event's own fulfillment id."""
        return self._own("fulfillment_id", "fulfillment")

    def case_id(self):
        """The Core Case case id."""
        return self._own("case_id", "case")

    def order_key(self, case_type):
        """The key of this plugin's ``case_type`` case about the event's order."""
        return case_key(case_type, Subject.order(self.order_id()))

    def return_key(self, case_type):
        """The key of this plugin's ``case_type`` case about the event's return."""
        return case_key(case_type, Subject.return_(self.return_id()))

    def dispute_key(self, case_type):
        """The key of this plugin's ``case_type`` case about the event's dispute."""
        return case_key(case_type, Subject.dispute(self.dispute_id()))

    def customer_key(self, case_type):
        """The key of this plugin's ``case_type`` case about the event's customer."""
        return case_key(case_type, Subject.customer(self.customer_id()))


def _str(v, default=""):
    return v if isinstance(v, str) else default


def _int(v, default=0):
    return v if isinstance(v, int) and not isinstance(v, bool) else default


class Order:
    """A tolerant view of an ``orders/*`` payload: missing or ``null`` fields
    read as empty values, never as exceptions. ``raw`` is the parsed
    payload for anything not covered here."""

    def __init__(self, raw):
        #: The payload dict.
        self.raw = raw if isinstance(raw, dict) else {}

    @property
    def id(self):
        """Shopify's order id (prefer ``event.order_id()``)."""
        return _int(self.raw.get("id"))

    @property
    def name(self):
        """e.g. ``#1042``."""
        return _str(self.raw.get("name"))

    @property
    def total_price(self):
        """Decimal string, verbatim (e.g. ``"612.40"``), or ``""``."""
        return _str(self.raw.get("total_price"))

    @property
    def subtotal_price(self):
        """Decimal string."""
        return _str(self.raw.get("subtotal_price"))

    @property
    def current_total_price(self):
        """Decimal string."""
        return _str(self.raw.get("current_total_price"))

    @property
    def currency(self):
        """ISO 4217, e.g. ``EUR``."""
        return _str(self.raw.get("currency"))

    @property
    def test(self):
        """Whether Shopify flagged the order as a test."""
        return self.raw.get("test") is True

    @property
    def financial_status(self):
        """e.g. ``paid``, or ``""``."""
        return _str(self.raw.get("financial_status"))

    @property
    def fulfillment_status(self):
        """e.g. ``fulfilled``, or ``""``."""
        return _str(self.raw.get("fulfillment_status"))

    @property
    def line_items(self):
        """The line items (raw dicts)."""
        items = self.raw.get("line_items")
        return items if isinstance(items, list) else []

    @property
    def customer_id(self):
        """The customer's id, or ``None`` (prefer ``event.customer_id()``)."""
        c = self.raw.get("customer")
        cid = _int(c.get("id")) if isinstance(c, dict) else 0
        return cid or None

    @property
    def cancelled(self):
        """Whether the order was cancelled."""
        return isinstance(self.raw.get("cancelled_at"), str)

    def tags(self):
        """The tags as a list: ``"VIP, wholesale"`` -> ``["VIP", "wholesale"]``."""
        return split_tags(_str(self.raw.get("tags")))

    def has_tag(self, tag):
        """Whether the order has a tag (case-insensitive, like Shopify)."""
        return any(t.lower() == tag.lower() for t in self.tags())

    def item_count(self):
        """Units bought, over all line items."""
        return sum(_int(i.get("quantity")) for i in self.line_items if isinstance(i, dict))

    def total_price_float(self):
        """``total_price`` as a float, or ``None`` if it is not a strict decimal string."""
        return money.parse_float(self.total_price)

    def total_price_cents(self):
        """``total_price`` in cents, exactly, or ``None``."""
        return money.parse_cents(self.total_price)


def split_tags(s):
    """Shopify's comma-separated tags as a list (empty entries dropped)."""
    return [t.strip() for t in s.split(",") if t.strip()]


# ---- money -------------------------------------------------------------------

_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class _Money:
    """Money amounts as Shopify writes them: strict decimal strings (``-``?
    digits, optionally ``.`` and digits; no exponent, ``+``, spaces or
    separators), as in the Rust SDK."""

    @staticmethod
    def is_decimal(s):
        """Whether ``s`` is a decimal amount in the accepted form."""
        return isinstance(s, str) and _DECIMAL.fullmatch(s) is not None

    @staticmethod
    def parse_float(s):
        """The amount as a float (to compare with ``number`` settings), or ``None``."""
        return float(s) if _Money.is_decimal(s) else None

    @staticmethod
    def parse_cents(s):
        """``"1243.87"`` -> ``124387``; ``None`` if not decimal or a third non-zero decimal."""
        if not _Money.is_decimal(s):
            return None
        negative = s.startswith("-")
        int_part, _, frac = s.lstrip("-").partition(".")
        if frac[2:].strip("0"):
            return None
        cents = int(int_part) * 100 + int((frac[:2] + "00")[:2])
        return -cents if negative else cents

    @staticmethod
    def format_cents(cents):
        """``124387`` -> ``"1243.87"``; always two decimals."""
        sign = "-" if cents < 0 else ""
        return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"

    @staticmethod
    def format_number(x):
        """A number as the other SDKs print it: ``500.0`` -> ``"500"``, ``750.5`` -> ``"750.5"``."""
        if isinstance(x, float) and x.is_integer() and abs(x) < 1e16:
            return str(int(x))
        return repr(x) if isinstance(x, float) else str(x)


#: Strict decimal amounts; see :class:`_Money`.
money = _Money()

# ---- action builders -----------------------------------------------------------

#: Case priorities: ``Priority.LOW``, ``MEDIUM``, ``HIGH``, ``CRITICAL``.
Priority = _types.Priority
#: Case statuses: ``CaseStatus.NEW``, ``IN_PROGRESS``, ...
CaseStatus = _types.CaseStatus


class Subject:
    """What a case is about (WIT ``subject``)."""

    order = staticmethod(lambda i: _types.Subject_Order(int(i)))
    return_ = staticmethod(lambda i: _types.Subject_Return(int(i)))
    dispute = staticmethod(lambda i: _types.Subject_Dispute(int(i)))
    customer = staticmethod(lambda i: _types.Subject_Customer(int(i)))


class Target:
    """Where a tag, note or metafield change goes (WIT ``target``)."""

    order = staticmethod(lambda i: _types.Target_Order(int(i)))
    customer = staticmethod(lambda i: _types.Target_Customer(int(i)))


def case_key(case_type, subject):
    """A case key: a case type granted in the manifest and the event's own subject."""
    return _types.CaseKey(case_type=case_type, subject=subject)


class Document:
    """Files for cases (WIT ``document``)."""

    @staticmethod
    def of(name, content_type, description, content):
        """Any content type; ``content`` is ``str`` (UTF-8) or ``bytes``."""
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        return _types.Document(name=name, content_type=content_type, description=description, content=data)

    @staticmethod
    def markdown(name, description, text):
        """A Markdown file (``text/markdown``), e.g. an order dossier."""
        return Document.of(name, "text/markdown", description, text)

    @staticmethod
    def text(name, description, text):
        """A plain text file."""
        return Document.of(name, "text/plain", description, text)

    @staticmethod
    def json(name, description, value):
        """A JSON file from a value."""
        return Document.of(name, "application/json", description, json.dumps(value))


class OpenCase:
    """Open a case (or update the one already linked to its key)."""

    def __init__(self, key, title):
        self._v = _types.OpenCase(
            key=key, title=title, summary="", priority=Priority.MEDIUM, owner=None, owner_group=None,
            due=None, attributes=[], documents=[],
        )

    def summary(self, s):
        """What happened and what is asked of the case worker."""
        self._v.summary = s
        return self

    def priority(self, p):
        """See :data:`Priority`."""
        self._v.priority = p
        return self

    def owner(self, o):
        """A named case worker."""
        self._v.owner = o
        return self

    def owner_group(self, g):
        """The team that owns the case."""
        self._v.owner_group = g
        return self

    def due(self, d):
        """When the case is due (RFC 3339)."""
        self._v.due = d
        return self

    def attribute(self, name, value):
        """Add a custom attribute (the value is converted to ``str``)."""
        self._v.attributes.append(_types.Attribute(name=name, value=str(value)))
        return self

    def document(self, d):
        """Attach a file (see :class:`Document`)."""
        self._v.documents.append(d)
        return self

    def to_action(self):
        """The WIT action."""
        return _types.Action_OpenCase(self._v)


class UpdateCase:
    """Change a linked case; fields left unset are not touched."""

    def __init__(self, key):
        self._v = _types.UpdateCase(
            key=key, status=None, reason=None, resolution=None, priority=None, owner=None, owner_group=None,
            due=None, escalation_level=None, attributes=[],
        )

    def status(self, s):
        self._v.status = s
        return self

    def reason(self, r):
        self._v.reason = r
        return self

    def resolution(self, code, notes):
        self._v.resolution = _types.Resolution(code=code, notes=notes)
        return self

    def priority(self, p):
        self._v.priority = p
        return self

    def owner(self, o):
        self._v.owner = o
        return self

    def owner_group(self, g):
        self._v.owner_group = g
        return self

    def due(self, d):
        self._v.due = d
        return self

    def escalation_level(self, level):
        """Escalation level, 0 to 5."""
        self._v.escalation_level = level
        return self

    def attribute(self, name, value):
        self._v.attributes.append(_types.Attribute(name=name, value=str(value)))
        return self

    def to_action(self):
        return _types.Action_UpdateCase(self._v)


class CreateTask:
    """A work item on a linked case for a team."""

    def __init__(self, key, title, team):
        self._v = _types.CreateTask(key=key, title=title, description="", team=team, owner=None, due=None)

    def description(self, d):
        self._v.description = d
        return self

    def owner(self, o):
        self._v.owner = o
        return self

    def due(self, d):
        self._v.due = d
        return self

    def to_action(self):
        return _types.Action_CreateTask(self._v)


class RequestApproval:
    """Hold a Shopify operation until a person approves it in Core Case."""

    def __init__(self, key, title, approver_group, operation):
        self._v = _types.RequestApproval(
            key=key, title=title, description="", approver_group=approver_group, due=None, operation=operation,
        )

    def description(self, d):
        self._v.description = d
        return self

    def due(self, d):
        self._v.due = d
        return self

    def to_action(self):
        return _types.Action_RequestApproval(self._v)


class comment:  # noqa: N801 - a namespace, spelled like the other SDKs
    """Add a comment to a linked case."""

    @staticmethod
    def internal(key, text):
        """Visible to case workers only."""
        return _types.Action_Comment(_types.Comment(key=key, text=text, visibility=_types.Visibility.INTERNAL))

    @staticmethod
    def public(key, text):
        """Shown wherever Core Case shows public comments."""
        return _types.Action_Comment(_types.Comment(key=key, text=text, visibility=_types.Visibility.PUBLIC))


def attach_document(key, document):
    """Attach a file to a linked case."""
    return _types.Action_AttachDocument(_types.AttachDocument(key=key, document=document))


def follow_up(name, due, data=None):
    """Ask to be called again at ``due`` (RFC 3339) with a ``timer/fired`` event carrying ``data``."""
    return _types.Action_FollowUp(_types.FollowUp(name=name, due=due, data=json.dumps(data)))


class _Shopify:
    """Operations on the event's Shopify store (WIT ``shopify-operation``)."""

    @staticmethod
    def tags_add(target, tags):
        """Add tags to the event's order or customer."""
        return _types.ShopifyOperation_TagsAdd(_types.TagsChange(target=target, tags=list(tags)))

    @staticmethod
    def tags_remove(target, tags):
        """Remove tags."""
        return _types.ShopifyOperation_TagsRemove(_types.TagsChange(target=target, tags=list(tags)))

    @staticmethod
    def note_append(target, text):
        """Append a line to the note (once)."""
        return _types.ShopifyOperation_NoteAppend(_types.NoteAppend(target=target, text=text))

    @staticmethod
    def set_metafield(target, namespace, key, type_, value):
        """Set one metafield; ``type_`` is a Shopify metafield type, ``value`` its string form."""
        return _types.ShopifyOperation_SetMetafield(
            _types.Metafield(target=target, namespace=namespace, key=key, type=type_, value=value)
        )

    @staticmethod
    def hold(order_id, reason, handle, notes=""):
        """Hold the order's fulfillment under ``handle``; ``reason`` a ``HoldReason``."""
        return _types.ShopifyOperation_HoldFulfillment(
            _types.HoldFulfillment(order_id=int(order_id), reason=reason, notes=notes, handle=handle)
        )

    @staticmethod
    def release(order_id, handle):
        """Release the hold placed under ``handle``."""
        return _types.ShopifyOperation_ReleaseFulfillment(
            _types.ReleaseFulfillment(order_id=int(order_id), handle=handle)
        )

    @staticmethod
    def cancel_order(order_id, reason, restock=False, notify_customer=False, staff_note=""):
        """Cancel the order; ``reason`` a ``CancelReason``."""
        return _types.ShopifyOperation_CancelOrder(
            _types.CancelOrder(
                order_id=int(order_id), reason=reason, restock=restock, notify_customer=notify_customer,
                staff_note=staff_note,
            )
        )

    @staticmethod
    def approve_return(return_id, notify_customer=False):
        """Approve the event's return."""
        return _types.ShopifyOperation_ApproveReturn(
            _types.ApproveReturn(return_id=int(return_id), notify_customer=notify_customer)
        )

    @staticmethod
    def decline_return(return_id, reason, note, notify_customer=False):
        """Decline the event's return; ``reason`` a ``DeclineReason``."""
        return _types.ShopifyOperation_DeclineReturn(
            _types.DeclineReturn(return_id=int(return_id), reason=reason, note=note, notify_customer=notify_customer)
        )

    @staticmethod
    def refund(order_id, amount, currency, note="", notify_customer=False):
        """Refund ``amount`` (decimal string) in the order's currency."""
        return _types.ShopifyOperation_Refund(
            _types.Refund(
                order_id=int(order_id), amount=amount, currency=currency, note=note, notify_customer=notify_customer
            )
        )

    @staticmethod
    def store_credit(customer_id, amount, currency, expires_at=None, notify_customer=False):
        """Credit the customer's store credit account."""
        return _types.ShopifyOperation_StoreCredit(
            _types.StoreCredit(
                customer_id=int(customer_id), amount=amount, currency=currency, expires_at=expires_at,
                notify_customer=notify_customer,
            )
        )


#: Shopify operations: ``shopify.tags_add(Target.order(id), ["x"])``...
shopify = _Shopify()

# ---- host functions ------------------------------------------------------------


class _Log:
    """Write a line to the host's log (grant: ``log``)."""

    @staticmethod
    def trace(message):
        _wit_host.log(_wit_host.Level.TRACE, str(message))

    @staticmethod
    def debug(message):
        _wit_host.log(_wit_host.Level.DEBUG, str(message))

    @staticmethod
    def info(message):
        _wit_host.log(_wit_host.Level.INFO, str(message))

    @staticmethod
    def warn(message):
        _wit_host.log(_wit_host.Level.WARN, str(message))

    @staticmethod
    def error(message):
        _wit_host.log(_wit_host.Level.ERROR, str(message))


#: ``log.info("...")`` and friends.
log = _Log()


class _Host:
    """Settings, customer history and case links (grants: ``settings``,
    ``customer-history``, ``case-lookup``)."""

    @staticmethod
    def setting(name):
        """A setting's value as a plain Python value, or ``None`` if the manifest declares no such setting."""
        v = _wit_host.setting(name)
        return None if v is None else v.value

    @staticmethod
    def setting_text(name, default):
        """A ``text`` setting, or ``default`` if it is not declared or not text."""
        v = _wit_host.setting(name)
        return v.value if isinstance(v, _wit_host.SettingValue_Text) else default

    @staticmethod
    def setting_number(name, default):
        """A ``number`` (or ``integer``) setting as a float, or ``default``."""
        v = _wit_host.setting(name)
        if isinstance(v, (_wit_host.SettingValue_Number, _wit_host.SettingValue_Integer)):
            return float(v.value)
        return default

    @staticmethod
    def setting_integer(name, default):
        """An ``integer`` setting, or ``default``."""
        v = _wit_host.setting(name)
        return v.value if isinstance(v, _wit_host.SettingValue_Integer) else default

    @staticmethod
    def setting_bool(name, default):
        """A ``boolean`` setting, or ``default``."""
        v = _wit_host.setting(name)
        return v.value if isinstance(v, _wit_host.SettingValue_Boolean) else default

    @staticmethod
    def setting_list(name, default):
        """A ``text-list`` setting, or ``default``."""
        v = _wit_host.setting(name)
        return list(v.value) if isinstance(v, _wit_host.SettingValue_TextList) else default

    @staticmethod
    def customer_history(customer_id):
        """The event's own customer's history (raises :class:`HostError`)."""
        return _host_call(_wit_host.customer_history, int(customer_id))

    @staticmethod
    def linked_case(key):
        """The case linked to ``key``, or ``None`` (raises :class:`HostError`)."""
        return _host_call(_wit_host.linked_case, key)


#: ``host.setting_number("threshold", 500.0)`` and friends.
host = _Host()


class _Kv:
    """The plugin's key-value store for this store (grant: ``kv``). Methods
    raise :class:`HostError`."""

    @staticmethod
    def get(key):
        """The value of ``key``, or ``None`` if missing or expired."""
        return _host_call(_wit_host.kv_get, key)

    @staticmethod
    def set(key, value, ttl_seconds=None):
        """Write ``value`` under ``key``, expiring ``ttl_seconds`` after the event's ``triggered_at``."""
        _host_call(_wit_host.kv_set, key, value, ttl_seconds)

    @staticmethod
    def delete(key):
        """Delete ``key`` (a missing key is not an error)."""
        _host_call(_wit_host.kv_delete, key)


#: ``kv.get(key)``, ``kv.set(key, value, ttl_seconds)``, ``kv.delete(key)``.
kv = _Kv()
