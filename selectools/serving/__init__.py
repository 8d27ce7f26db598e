"""The serving layer every web adapter is a thin shell over.

- `options`: `ServingOptions` (limits, keep-alive, disconnect policy) and `Caller`
  (identity and metadata, from the host app's auth).
- `wire`: the pydantic models that parse every request and build every answer.
- `body`: reading a body under a byte limit counted while it streams, then parsing it.
- `errors`: `error_answer(exc) -> (status, body, headers)`, decided by the exception.
- `sse`: Server-Sent Events framing, headers and keep-alives.
- `handlers`: invoke, stream, batch, sessions, tools, OpenAI-compatible routes,
  async (ASGI) and sync (WSGI), each returning an `Answer` or a `Stream`.
- `admission`: per-caller rate limits and daily quotas (`ServingOptions.rate_limit`,
  `quota_tokens`, `quota_usd`), in this process or in Redis for every worker.
- `approvals`: deciding a run paused for approval (`POST {prefix}/approvals/{id}`).
- `degrade`: the configured `fallback_answer` when the model providers are down.
- `audit`: `GET {prefix}/audit` (off unless `ServingOptions.audit_route`), owner-scoped.
- `pages`: the playground and builder pages (HTML, CSS, JS in `static/`, defined
  once) with a strict Content-Security-Policy; `listing`: `GET /sessions`.
- `analytics`: `GET {prefix}/analytics` (off unless `ServingOptions.analytics_route`), owner-scoped.
- `builder`: the agent builder's routes (off unless `ServingOptions.builder`); it
  loads, with `selectools.spec`, at its first use (`selectools.serving.builder`).

What an app does not turn on does not load: the builder, the limits and
quota policies (`admission`), the guardrails (for an agent with policies)
and the batch pool load with their first use, so importing an adapter stays light.

An adapter does only what its framework needs: resolve the agent and the
`Caller` from the host app, read the body with `BodyBudget` and `parse` it,
call a handler, and turn the `Answer`/`Stream` into its framework's response.
It maps `SelectoolsError` (and its framework's validation error) with
`error_answer`, and nothing else: the host app's own HTTP exceptions pass
through untouched.

Adding a route to both adapters: write `handlers.my_route(agent, body, caller,
options) -> Answer | Stream` (and a `_sync` twin if it needs to wait on a
run), with its request and answer models in `wire`; then, in
`selectools_fastapi/router.py`, one decorated endpoint calling it through
`_send`, and in `selectools_flask/extension.py`, one view calling it through
`_send` (a few lines each). The contract suite in `tests/contract/` runs every
route against both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports
from . import approvals, handlers, listing, pages, sse, wire, wire_pages
from .body import BodyBudget, parse, read_async, read_sync, refuse_duplicate_keys
from .errors import (
    InvalidRequestError,
    RequestTooLargeError,
    error_answer,
    error_body,
    log_unexpected,
)
from .handlers import Answer, Stream
from .options import Caller, ServingOptions
from .pages import Page

if TYPE_CHECKING:
    from . import builder

# The builder (and the spec it serves) loads only for an app that turns it on.
if not TYPE_CHECKING:  # type checkers see the import above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(globals(), {}, modules=("builder",))

__all__ = [
    "Answer",
    "BodyBudget",
    "Caller",
    "InvalidRequestError",
    "Page",
    "RequestTooLargeError",
    "ServingOptions",
    "Stream",
    "approvals",
    "error_answer",
    "error_body",
    "builder",
    "handlers",
    "listing",
    "log_unexpected",
    "pages",
    "parse",
    "read_async",
    "refuse_duplicate_keys",
    "read_sync",
    "sse",
    "wire",
    "wire_pages",
]
