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

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar, Union, runtime_checkable

from componentize_py_types import Err
from wit_world.imports import host as _wit_host
from wit_world.imports import types as _types

__all__ = [
    "ActionLike", "HandleFn", "ShopifyOperation", "WitAction", "CaseStatus", "CreateTask", "Document", "Event", "HostError", "Order", "OpenCase", "PluginError",
    "Priority", "RequestApproval", "Subject", "Target", "UpdateCase", "attach_document", "case_key",
    "comment", "follow_up", "host", "kv", "log", "money", "plugin", "shopify", "split_tags", "to_action",
]

# ---- errors ----------------------------------------------------------------

#: The longest plugin-error message the contract allows (characters).
MAX_MESSAGE_CHARS = 1000


#: A WIT action, as the component returns it.
WitAction = _types.Action
#: A WIT Shopify operation.
ShopifyOperation = _types.ShopifyOperation


class PluginError(Exception):
    """A plugin's own failure for one event (the WIT ``plugin-error``).

    Raise it from the handler. A non-retryable error dead-letters the event
    for this plugin at once; a retryable one (:meth:`retry_later`) is run
    again later by the host.
    """

    def __init__(self, message: object, retryable: bool = False) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.retryable = bool(retryable)

    @classmethod
    def retry_later(cls, message: object) -> PluginError:
        """A failure that may go away (e.g. a host function was unavailable)."""
        return cls(message, retryable=True)

    def to_wit(self) -> _types.PluginError:
        """The WIT ``plugin-error`` (message cut to 1000 characters)."""
        return _types.PluginError(message=self.message[:MAX_MESSAGE_CHARS], retryable=self.retryable)


class HostError(Exception):
    """A host function could not answer (the WIT ``host-error``).

    ``kind`` is ``quota-exceeded``, ``invalid-argument`` or ``unavailable``.
    Unhandled, it fails the invocation like ``?`` does in Rust: retryable
    only when ``unavailable``.
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"host function failed: {kind.replace('-', ' ')}: {detail}")
        self.kind = kind
        self.detail = detail

    @property
    def retryable(self) -> bool:
        """Whether running the event again later could succeed."""
        return self.kind == "unavailable"

    def to_plugin_error(self) -> PluginError:
        """The plugin error this host error becomes when it is not handled."""
        return PluginError(str(self), retryable=self.retryable)


_HOST_ERROR_KINDS: dict[type, str] = {
    _wit_host.HostError_QuotaExceeded: "quota-exceeded",
    _wit_host.HostError_InvalidArgument: "invalid-argument",
    _wit_host.HostError_Unavailable: "unavailable",
}


_T = TypeVar("_T")


def _host_call(f: Callable[..., _T], *args: Any) -> _T:
    """Call a WIT import whose result is ``result<T, host-error>``."""
    try:
        return f(*args)
    except Err as e:
        kind = _HOST_ERROR_KINDS.get(type(e.value), "unavailable")
        raise HostError(kind, str(getattr(e.value, "value", e.value))) from None


# ---- the export --------------------------------------------------------------


@runtime_checkable
class _Buildable(Protocol):
    """An action builder (:class:`OpenCase`..., or a plugin's own class
    with a ``to_action()``)."""

    def to_action(self) -> WitAction: ...


#: What a handler may return in its list.
ActionLike = Union[_Buildable, WitAction, ShopifyOperation]
#: A plugin's handler.
HandleFn = Callable[["Event"], Sequence[ActionLike]]


def plugin(handle: HandleFn) -> type:
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
        def handle(self, event: _types.Event) -> list[WitAction]:
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


def to_action(a: ActionLike) -> WitAction:
    """A builder, a Shopify operation or a WIT action -> a WIT action."""
    if isinstance(a, _Buildable):
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

    def __init__(self, raw: _types.Event) -> None:
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
        self._payload: Any = None

    def payload(self) -> Any:
        """The payload, parsed (once)."""
        if self._payload is None:
            try:
                self._payload = json.loads(self.payload_text)
            except ValueError as e:
                raise PluginError(f"{self.topic} payload is not JSON: {e}") from None
        return self._payload

    def order(self) -> Order:
        """The payload of ``orders/*`` topics, as an :class:`Order` view."""
        return Order(self.payload())

    def _own(self, v: _T | None, what: str) -> _T:
        if v is None:
            raise PluginError(f"{self.topic} event {self.id} has no {what}")
        return v

    def order_id(self) -> int:
        """The event's own order id, or a PluginError naming what is missing."""
        return self._own(self.resources.order_id, "order")

    def customer_id(self) -> int:
        """The event's own customer id."""
        return self._own(self.resources.customer_id, "customer")

    def return_id(self) -> int:
        """The event's own return id."""
        return self._own(self.resources.return_id, "return")

    def dispute_id(self) -> int:
        """The event's own dispute id."""
        return self._own(self.resources.dispute_id, "dispute")

    def fulfillment_id(self) -> int:
        """The event's own fulfillment id."""
        return self._own(self.resources.fulfillment_id, "fulfillment")

    def case_id(self) -> str:
        """The Core Case case id."""
        return self._own(self.resources.case_id, "case")

    def order_key(self, case_type: str) -> _types.CaseKey:
        """The key of this plugin's ``case_type`` case about the event's order."""
        return case_key(case_type, Subject.order(self.order_id()))

    def return_key(self, case_type: str) -> _types.CaseKey:
        """The key of this plugin's ``case_type`` case about the event's return."""
        return case_key(case_type, Subject.return_(self.return_id()))

    def dispute_key(self, case_type: str) -> _types.CaseKey:
        """The key of this plugin's ``case_type`` case about the event's dispute."""
        return case_key(case_type, Subject.dispute(self.dispute_id()))

    def customer_key(self, case_type: str) -> _types.CaseKey:
        """The key of this plugin's ``case_type`` case about the event's customer."""
        return case_key(case_type, Subject.customer(self.customer_id()))


def _str(v: object, default: str = "") -> str:
    return v if isinstance(v, str) else default


def _int(v: object, default: int = 0) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else default


class Order:
    """A tolerant view of an ``orders/*`` payload: missing or ``null`` fields
    read as empty values, never as exceptions. ``raw`` is the parsed
    payload for anything not covered here."""

    def __init__(self, raw: object) -> None:
        #: The payload dict.
        self.raw: dict[str, Any] = raw if isinstance(raw, dict) else {}

    @property
    def id(self) -> int:
        """Shopify's order id (prefer ``event.order_id()``)."""
        return _int(self.raw.get("id"))

    @property
    def name(self) -> str:
        """e.g. ``#1042``."""
        return _str(self.raw.get("name"))

    @property
    def total_price(self) -> str:
        """Decimal string, verbatim (e.g. ``"612.40"``), or ``""``."""
        return _str(self.raw.get("total_price"))

    @property
    def subtotal_price(self) -> str:
        """Decimal string."""
        return _str(self.raw.get("subtotal_price"))

    @property
    def current_total_price(self) -> str:
        """Decimal string."""
        return _str(self.raw.get("current_total_price"))

    @property
    def currency(self) -> str:
        """ISO 4217, e.g. ``EUR``."""
        return _str(self.raw.get("currency"))

    @property
    def test(self) -> bool:
        """Whether Shopify flagged the order as a test."""
        return self.raw.get("test") is True

    @property
    def financial_status(self) -> str:
        """e.g. ``paid``, or ``""``."""
        return _str(self.raw.get("financial_status"))

    @property
    def fulfillment_status(self) -> str:
        """e.g. ``fulfilled``, or ``""``."""
        return _str(self.raw.get("fulfillment_status"))

    @property
    def line_items(self) -> list[Any]:
        """The line items (raw dicts)."""
        items = self.raw.get("line_items")
        return items if isinstance(items, list) else []

    @property
    def customer_id(self) -> int | None:
        """The customer's id, or ``None`` (prefer ``event.customer_id()``)."""
        c = self.raw.get("customer")
        cid = _int(c.get("id")) if isinstance(c, dict) else 0
        return cid or None

    @property
    def cancelled(self) -> bool:
        """Whether the order was cancelled."""
        return isinstance(self.raw.get("cancelled_at"), str)

    def tags(self) -> list[str]:
        """The tags as a list: ``"VIP, wholesale"`` -> ``["VIP", "wholesale"]``."""
        return split_tags(_str(self.raw.get("tags")))

    def has_tag(self, tag: str) -> bool:
        """Whether the order has a tag (case-insensitive, like Shopify)."""
        return any(t.lower() == tag.lower() for t in self.tags())

    def item_count(self) -> int:
        """Units bought, over all line items."""
        return sum(_int(i.get("quantity")) for i in self.line_items if isinstance(i, dict))

    def total_price_float(self) -> float | None:
        """``total_price`` as a float, or ``None`` if it is not a strict decimal string."""
        return money.parse_float(self.total_price)

    def total_price_cents(self) -> int | None:
        """``total_price`` in cents, exactly, or ``None``."""
        return money.parse_cents(self.total_price)


def split_tags(s: str) -> list[str]:
    """Shopify's comma-separated tags as a list (empty entries dropped)."""
    return [t.strip() for t in s.split(",") if t.strip()]


# ---- money -------------------------------------------------------------------

_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class _Money:
    """Money amounts as Shopify writes them: strict decimal strings (``-``?
    digits, optionally ``.`` and digits; no exponent, ``+``, spaces or
    separators), as in the Rust SDK."""

    @staticmethod
    def is_decimal(s: object) -> bool:
        """Whether ``s`` is a decimal amount in the accepted form."""
        return isinstance(s, str) and _DECIMAL.fullmatch(s) is not None

    @staticmethod
    def parse_float(s: str) -> float | None:
        """The amount as a float (to compare with ``number`` settings), or ``None``."""
        return float(s) if _Money.is_decimal(s) else None

    @staticmethod
    def parse_cents(s: str) -> int | None:
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
    def format_cents(cents: int) -> str:
        """``124387`` -> ``"1243.87"``; always two decimals."""
        sign = "-" if cents < 0 else ""
        return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"

    @staticmethod
    def format_number(x: float | int) -> str:
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

    @staticmethod
    def order(i: int) -> _types.Subject:
        """An order."""
        return _types.Subject_Order(int(i))

    @staticmethod
    def return_(i: int) -> _types.Subject:
        """A return."""
        return _types.Subject_Return(int(i))

    @staticmethod
    def dispute(i: int) -> _types.Subject:
        """A dispute."""
        return _types.Subject_Dispute(int(i))

    @staticmethod
    def customer(i: int) -> _types.Subject:
        """A customer."""
        return _types.Subject_Customer(int(i))


class Target:
    """Where a tag, note or metafield change goes (WIT ``target``)."""

    @staticmethod
    def order(i: int) -> _types.Target:
        """The event's order."""
        return _types.Target_Order(int(i))

    @staticmethod
    def customer(i: int) -> _types.Target:
        """The event's customer."""
        return _types.Target_Customer(int(i))


def case_key(case_type: str, subject: _types.Subject) -> _types.CaseKey:
    """A case key: a case type granted in the manifest and the event's own subject."""
    return _types.CaseKey(case_type=case_type, subject=subject)


class Document:
    """Files for cases (WIT ``document``)."""

    @staticmethod
    def of(name: str, content_type: str, description: str, content: str | bytes) -> _types.Document:
        """Any content type; ``content`` is ``str`` (UTF-8) or ``bytes``."""
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        return _types.Document(name=name, content_type=content_type, description=description, content=data)

    @staticmethod
    def markdown(name: str, description: str, text: str) -> _types.Document:
        """A Markdown file (``text/markdown``), e.g. an order dossier."""
        return Document.of(name, "text/markdown", description, text)

    @staticmethod
    def text(name: str, description: str, text: str) -> _types.Document:
        """A plain text file."""
        return Document.of(name, "text/plain", description, text)

    @staticmethod
    def json(name: str, description: str, value: Any) -> _types.Document:
        """A JSON file from a value."""
        return Document.of(name, "application/json", description, json.dumps(value))


class OpenCase:
    """Open a case (or update the one already linked to its key)."""

    def __init__(self, key: _types.CaseKey, title: str) -> None:
        self._v = _types.OpenCase(
            key=key, title=title, summary="", priority=Priority.MEDIUM, owner=None, owner_group=None,
            due=None, attributes=[], documents=[],
        )

    def summary(self, s: str) -> OpenCase:
        """What happened and what is asked of the case worker."""
        self._v.summary = s
        return self

    def priority(self, p: _types.Priority) -> OpenCase:
        """See :data:`Priority`."""
        self._v.priority = p
        return self

    def owner(self, o: str) -> OpenCase:
        """A named case worker."""
        self._v.owner = o
        return self

    def owner_group(self, g: str) -> OpenCase:
        """The team that owns the case."""
        self._v.owner_group = g
        return self

    def due(self, d: str) -> OpenCase:
        """When the case is due (RFC 3339)."""
        self._v.due = d
        return self

    def attribute(self, name: str, value: object) -> OpenCase:
        """Add a custom attribute (the value is converted to ``str``)."""
        self._v.attributes.append(_types.Attribute(name=name, value=str(value)))
        return self

    def document(self, d: _types.Document) -> OpenCase:
        """Attach a file (see :class:`Document`)."""
        self._v.documents.append(d)
        return self

    def to_action(self) -> WitAction:
        """The WIT action."""
        return _types.Action_OpenCase(self._v)


class UpdateCase:
    """Change a linked case; fields left unset are not touched."""

    def __init__(self, key: _types.CaseKey) -> None:
        self._v = _types.UpdateCase(
            key=key, status=None, reason=None, resolution=None, priority=None, owner=None, owner_group=None,
            due=None, escalation_level=None, attributes=[],
        )

    def status(self, s: _types.CaseStatus) -> UpdateCase:
        """The new status."""
        self._v.status = s
        return self

    def reason(self, r: str) -> UpdateCase:
        """Why the status changes."""
        self._v.reason = r
        return self

    def resolution(self, code: str, notes: str) -> UpdateCase:
        """How the case ended."""
        self._v.resolution = _types.Resolution(code=code, notes=notes)
        return self

    def priority(self, p: _types.Priority) -> UpdateCase:
        """See :data:`Priority`."""
        self._v.priority = p
        return self

    def owner(self, o: str) -> UpdateCase:
        """A named case worker."""
        self._v.owner = o
        return self

    def owner_group(self, g: str) -> UpdateCase:
        """The team that owns the case."""
        self._v.owner_group = g
        return self

    def due(self, d: str) -> UpdateCase:
        """When the case is due (RFC 3339)."""
        self._v.due = d
        return self

    def escalation_level(self, level: int) -> UpdateCase:
        """Escalation level, 0 to 5."""
        self._v.escalation_level = level
        return self

    def attribute(self, name: str, value: object) -> UpdateCase:
        """Set a custom attribute (the value is converted to ``str``)."""
        self._v.attributes.append(_types.Attribute(name=name, value=str(value)))
        return self

    def to_action(self) -> WitAction:
        """The WIT action."""
        return _types.Action_UpdateCase(self._v)


class CreateTask:
    """A work item on a linked case for a team."""

    def __init__(self, key: _types.CaseKey, title: str, team: str) -> None:
        self._v = _types.CreateTask(key=key, title=title, description="", team=team, owner=None, due=None)

    def description(self, d: str) -> CreateTask:
        """What is to be done."""
        self._v.description = d
        return self

    def owner(self, o: str) -> CreateTask:
        """A named case worker."""
        self._v.owner = o
        return self

    def due(self, d: str) -> CreateTask:
        """When the task is due (RFC 3339)."""
        self._v.due = d
        return self

    def to_action(self) -> WitAction:
        """The WIT action."""
        return _types.Action_CreateTask(self._v)


class RequestApproval:
    """Hold a Shopify operation until a person approves it in Core Case."""

    def __init__(
        self, key: _types.CaseKey, title: str, approver_group: str, operation: ShopifyOperation
    ) -> None:
        self._v = _types.RequestApproval(
            key=key, title=title, description="", approver_group=approver_group, due=None, operation=operation,
        )

    def description(self, d: str) -> RequestApproval:
        """What the approver decides."""
        self._v.description = d
        return self

    def due(self, d: str) -> RequestApproval:
        """When the approval is due (RFC 3339)."""
        self._v.due = d
        return self

    def to_action(self) -> WitAction:
        """The WIT action."""
        return _types.Action_RequestApproval(self._v)


class comment:  # noqa: N801 - a namespace, spelled like the other SDKs
    """Add a comment to a linked case."""

    @staticmethod
    def internal(key: _types.CaseKey, text: str) -> WitAction:
        """Visible to case workers only."""
        return _types.Action_Comment(_types.Comment(key=key, text=text, visibility=_types.Visibility.INTERNAL))

    @staticmethod
    def public(key: _types.CaseKey, text: str) -> WitAction:
        """Shown wherever Core Case shows public comments."""
        return _types.Action_Comment(_types.Comment(key=key, text=text, visibility=_types.Visibility.PUBLIC))


def attach_document(key: _types.CaseKey, document: _types.Document) -> WitAction:
    """Attach a file to a linked case."""
    return _types.Action_AttachDocument(_types.AttachDocument(key=key, document=document))


def follow_up(name: str, due: str, data: Any = None) -> WitAction:
    """Ask to be called again at ``due`` (RFC 3339) with a ``timer/fired`` event carrying ``data``."""
    return _types.Action_FollowUp(_types.FollowUp(name=name, due=due, data=json.dumps(data)))


class _Shopify:
    """Operations on the event's Shopify store (WIT ``shopify-operation``)."""

    @staticmethod
    def tags_add(target: _types.Target, tags: Iterable[str]) -> ShopifyOperation:
        """Add tags to the event's order or customer."""
        return _types.ShopifyOperation_TagsAdd(_types.TagsChange(target=target, tags=list(tags)))

    @staticmethod
    def tags_remove(target: _types.Target, tags: Iterable[str]) -> ShopifyOperation:
        """Remove tags."""
        return _types.ShopifyOperation_TagsRemove(_types.TagsChange(target=target, tags=list(tags)))

    @staticmethod
    def note_append(target: _types.Target, text: str) -> ShopifyOperation:
        """Append a line to the note (once)."""
        return _types.ShopifyOperation_NoteAppend(_types.NoteAppend(target=target, text=text))

    @staticmethod
    def set_metafield(target: _types.Target, namespace: str, key: str, type_: str, value: str) -> ShopifyOperation:
        """Set one metafield; ``type_`` is a Shopify metafield type, ``value`` its string form."""
        return _types.ShopifyOperation_SetMetafield(
            _types.Metafield(target=target, namespace=namespace, key=key, type=type_, value=value)
        )

    @staticmethod
    def hold(order_id: int, reason: _types.HoldReason, handle: str, notes: str = "") -> ShopifyOperation:
        """Hold the order's fulfillment under ``handle``; ``reason`` a ``HoldReason``."""
        return _types.ShopifyOperation_HoldFulfillment(
            _types.HoldFulfillment(order_id=int(order_id), reason=reason, notes=notes, handle=handle)
        )

    @staticmethod
    def release(order_id: int, handle: str) -> ShopifyOperation:
        """Release the hold placed under ``handle``."""
        return _types.ShopifyOperation_ReleaseFulfillment(
            _types.ReleaseFulfillment(order_id=int(order_id), handle=handle)
        )

    @staticmethod
    def cancel_order(
        order_id: int,
        reason: _types.CancelReason,
        restock: bool = False,
        notify_customer: bool = False,
        staff_note: str = "",
    ) -> ShopifyOperation:
        """Cancel the order; ``reason`` a ``CancelReason``."""
        return _types.ShopifyOperation_CancelOrder(
            _types.CancelOrder(
                order_id=int(order_id), reason=reason, restock=restock, notify_customer=notify_customer,
                staff_note=staff_note,
            )
        )

    @staticmethod
    def approve_return(return_id: int, notify_customer: bool = False) -> ShopifyOperation:
        """Approve the event's return."""
        return _types.ShopifyOperation_ApproveReturn(
            _types.ApproveReturn(return_id=int(return_id), notify_customer=notify_customer)
        )

    @staticmethod
    def decline_return(
        return_id: int, reason: _types.DeclineReason, note: str, notify_customer: bool = False
    ) -> ShopifyOperation:
        """Decline the event's return; ``reason`` a ``DeclineReason``."""
        return _types.ShopifyOperation_DeclineReturn(
            _types.DeclineReturn(return_id=int(return_id), reason=reason, note=note, notify_customer=notify_customer)
        )

    @staticmethod
    def refund(
        order_id: int, amount: str, currency: str, note: str = "", notify_customer: bool = False
    ) -> ShopifyOperation:
        """Refund ``amount`` (decimal string) in the order's currency."""
        return _types.ShopifyOperation_Refund(
            _types.Refund(
                order_id=int(order_id), amount=amount, currency=currency, note=note, notify_customer=notify_customer
            )
        )

    @staticmethod
    def store_credit(
        customer_id: int,
        amount: str,
        currency: str,
        expires_at: str | None = None,
        notify_customer: bool = False,
    ) -> ShopifyOperation:
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
    def trace(message: object) -> None:
        """A line at level ``trace``."""
        _wit_host.log(_wit_host.Level.TRACE, str(message))

    @staticmethod
    def debug(message: object) -> None:
        """A line at level ``debug``."""
        _wit_host.log(_wit_host.Level.DEBUG, str(message))

    @staticmethod
    def info(message: object) -> None:
        """A line at level ``info``."""
        _wit_host.log(_wit_host.Level.INFO, str(message))

    @staticmethod
    def warn(message: object) -> None:
        """A line at level ``warn``."""
        _wit_host.log(_wit_host.Level.WARN, str(message))

    @staticmethod
    def error(message: object) -> None:
        """A line at level ``error``."""
        _wit_host.log(_wit_host.Level.ERROR, str(message))


#: ``log.info("...")`` and friends.
log = _Log()


class _Host:
    """Settings, customer history and case links (grants: ``settings``,
    ``customer-history``, ``case-lookup``)."""

    @staticmethod
    def setting(name: str) -> str | int | float | bool | list[str] | None:
        """A setting's value as a plain Python value, or ``None`` if the manifest declares no such setting."""
        v = _wit_host.setting(name)
        return None if v is None else v.value

    @staticmethod
    def setting_text(name: str, default: str) -> str:
        """A ``text`` setting, or ``default`` if it is not declared or not text."""
        v = _wit_host.setting(name)
        return v.value if isinstance(v, _wit_host.SettingValue_Text) else default

    @staticmethod
    def setting_number(name: str, default: float) -> float:
        """A ``number`` (or ``integer``) setting as a float, or ``default``."""
        v = _wit_host.setting(name)
        if isinstance(v, (_wit_host.SettingValue_Number, _wit_host.SettingValue_Integer)):
            return float(v.value)
        return default

    @staticmethod
    def setting_integer(name: str, default: int) -> int:
        """An ``integer`` setting, or ``default``."""
        v = _wit_host.setting(name)
        return v.value if isinstance(v, _wit_host.SettingValue_Integer) else default

    @staticmethod
    def setting_bool(name: str, default: bool) -> bool:
        """A ``boolean`` setting, or ``default``."""
        v = _wit_host.setting(name)
        return v.value if isinstance(v, _wit_host.SettingValue_Boolean) else default

    @staticmethod
    def setting_list(name: str, default: list[str]) -> list[str]:
        """A ``text-list`` setting, or ``default``."""
        v = _wit_host.setting(name)
        return list(v.value) if isinstance(v, _wit_host.SettingValue_TextList) else default

    @staticmethod
    def customer_history(customer_id: int) -> _wit_host.CustomerSummary:
        """The event's own customer's history (raises :class:`HostError`)."""
        return _host_call(_wit_host.customer_history, int(customer_id))

    @staticmethod
    def linked_case(key: _types.CaseKey) -> _wit_host.CaseSummary | None:
        """The case linked to ``key``, or ``None`` (raises :class:`HostError`)."""
        return _host_call(_wit_host.linked_case, key)


#: ``host.setting_number("threshold", 500.0)`` and friends.
host = _Host()


class _Kv:
    """The plugin's key-value store for this store (grant: ``kv``). Methods
    raise :class:`HostError`."""

    @staticmethod
    def get(key: str) -> str | None:
        """The value of ``key``, or ``None`` if missing or expired."""
        return _host_call(_wit_host.kv_get, key)

    @staticmethod
    def set(key: str, value: str, ttl_seconds: int | None = None) -> None:
        """Write ``value`` under ``key``, expiring ``ttl_seconds`` after the event's ``triggered_at``."""
        _host_call(_wit_host.kv_set, key, value, ttl_seconds)

    @staticmethod
    def delete(key: str) -> None:
        """Delete ``key`` (a missing key is not an error)."""
        _host_call(_wit_host.kv_delete, key)


#: ``kv.get(key)``, ``kv.set(key, value, ttl_seconds)``, ``kv.delete(key)``.
kv = _Kv()
