"""Graceful degradation: when the model providers are down, give the configured answer.

An outage is a `ProviderUnavailableError` (every fallback failed, or an open
circuit) or a transient provider failure left after retries (429, 5xx,
timeouts, lost connections). With `ServingOptions.fallback_answer` set, such a
run answers 200 with that text (`degraded: true`, `provider:
"fallback_answer"`, nothing stored in the session); without it, the error's
own status (503 with Retry-After when every provider is down).
"""

from __future__ import annotations

import logging
import os

from ..errors import ProviderUnavailableError
from ..policies.retry import is_transient
from ..results import AgentResult
from .options import ServingOptions
from .wire import FALLBACK_ANSWER

__all__ = ["fallback_or_raise", "fallback_result", "is_outage"]

logger = logging.getLogger("selectools.serving")


def is_outage(exc: BaseException) -> bool:
    """The providers cannot answer now (not: the request or the configuration is wrong)."""
    return isinstance(exc, ProviderUnavailableError) or is_transient(exc)


def fallback_result(
    exc: BaseException, options: ServingOptions, session_id: str | None
) -> AgentResult | None:
    """The degraded result to answer with instead of `exc`, or None to answer the error."""
    if options.fallback_answer is None or not is_outage(exc):
        return None
    logger.warning("model providers are down (%s); answering the fallback answer", exc)
    return AgentResult(
        text=options.fallback_answer,
        messages=(),
        new_messages=(),
        run_id=os.urandom(16).hex(),
        session_id=session_id,
        provider=FALLBACK_ANSWER,
    )


def fallback_or_raise(
    exc: Exception, options: ServingOptions, session_id: str | None
) -> AgentResult:
    """The degraded result for `exc`, or `exc` raised again when it is no outage to hide."""
    degraded = fallback_result(exc, options, session_id)
    if degraded is None:
        raise exc
    return degraded
