"""What a mounted agent allows and who is calling: the same for every web adapter."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from ..frozen import record

__all__ = ["Caller", "ServingOptions"]


@record
class ServingOptions:
    """Limits and behaviour of a mounted agent; both adapters take the same options.

    Attributes:
        max_body_bytes: larger request bodies get 413 (counted while the body
            streams in, so a huge chunked body is never buffered).
        max_input_chars: longer inputs (prompt or message contents) get 413.
        max_batch: most inputs one `/batch` call may carry (more gets 413).
        batch_concurrency: how many batch inputs run at once.
        keepalive_seconds: idle time before an SSE keep-alive comment.
        on_disconnect: "stop" cancels a run whose streaming client left; "finish"
            lets it complete in the background (its session is still saved).
        model_name: the id `/v1/models` reports and OpenAI clients send.
        rate_limit: runs a caller may start, e.g. "10/minute" or "5/second;100/hour"
            (per identity, per client address without one); over it, 429
            `rate_limited` with Retry-After. None: no limit.
        quota_tokens: tokens a caller may use per UTC day; then 429 `quota_exceeded`.
        quota_usd: dollars a caller may spend per UTC day (runs with an unknown
            price count tokens only).
        limits_storage: where limits and quotas count: None (this process) or a
            Redis URL shared by every worker.
        limits_namespace: the first part of every counter's key.
        fallback_answer: said instead of an error when the model providers are
            down (all fallbacks failed, an open circuit, outages after retries);
            without it such runs answer 503 or their own status with Retry-After.
        audit_route: serve `GET {prefix}/audit`, the agent's audit records (its
            `AuditLog` needs a listable sink); off by default. A caller sees only
            records of its own identity; callers without one get 403.
        audit_admin: `(caller) -> bool`; True lets that caller list everyone's
            records (and filter by `identity`). Decide from your own auth (a
            role in the context hook's mapping, a list of ids), never a header.
        playground: serve the chat page at `{prefix}/playground` (behind the
            same auth as every route).
        builder: serve the agent builder at `{prefix}/builder` (a development
            tool: it lists the installed toolkits and runs agents you design).
        analytics_route: serve `GET {prefix}/analytics`, the agent's usage analytics
            (its `Analytics` policy); off by default. A caller sees its own runs'
            analytics only; callers without an identity get 403.
        analytics_admin: `(caller) -> bool`; True lets that caller read everyone's.
        builder_providers: provider factories (`module:name`) the builder may
            try besides `openai` (e.g. a local model's); nothing else is imported.
        builder_toolkits: the installed toolkits (`selectools.toolkits` entry
            point names) the builder lists and may try. Only `toolbox` (pure
            functions) by default: add `"python"` to let builder users run code
            in the server's sandbox.
        websocket: serve `{prefix}/ws`, the stream's events over a WebSocket with
            run, cancel and approve messages (Flask: needs flask-sock, in the
            flask extra).
    """

    max_body_bytes: int = 1_000_000
    max_input_chars: int = 100_000
    max_batch: int = 16
    batch_concurrency: int = 4
    keepalive_seconds: float = 15.0
    on_disconnect: Literal["stop", "finish"] = "stop"
    model_name: str = "selectools-agent"
    rate_limit: str | None = None
    quota_tokens: int | None = None
    quota_usd: float | None = None
    limits_storage: str | None = None
    limits_namespace: str = "selectools:serving"
    fallback_answer: str | None = None
    audit_route: bool = False
    audit_admin: Callable[[Caller], bool] | None = None
    playground: bool = False
    builder: bool = False
    analytics_route: bool = False
    analytics_admin: Callable[[Caller], bool] | None = None
    websocket: bool = True
    builder_providers: tuple[str, ...] = ()
    builder_toolkits: tuple[str, ...] = ("toolbox",)


@record
class Caller:
    """Who is asking and with what facts, resolved by the adapter from the host app.

    `address` is the client's address as the framework sees it; behind a proxy,
    let the app's proxy middleware (uvicorn `--proxy-headers`, werkzeug
    `ProxyFix`) put the real client there, never a header the client sets.
    """

    identity: str | None = None
    metadata: Mapping[str, Any] | None = None
    address: str | None = None  # the client's IP: whom limits count without an identity

    @classmethod
    def of(cls, user: Any, facts: Any, address: str | None = None) -> Caller:
        """From what the host's identity and context hooks returned.

        A user object becomes its `id` (or its text); the context must be a mapping.
        """
        if user is not None and not isinstance(user, str):
            user = str(getattr(user, "id", user))
        if facts is not None and not isinstance(facts, Mapping):
            raise TypeError(
                f"The agent's `context` hook must return a mapping (or None), "
                f"got {type(facts).__name__}."
            )
        return cls(identity=user, metadata=facts, address=address)
