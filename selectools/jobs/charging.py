"""A job's items are charged to the submitter's daily quota, like the runs of `/invoke`.

The web side writes the quota's settings and the caller's key into the job
record (`quota_spec`); the runner, in whatever process, checks the quota
before each item (over it, the item answers 429 `quota_exceeded` and the job
goes on to fail its remaining items the same way) and charges each item's
real usage after it. With `limits_storage` in Redis the counters are the ones
every web worker uses; with counters in memory, a Celery worker counts apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..policies.quota import Quota
from ..serving.admission import admission_for, caller_key
from ..serving.options import Caller, ServingOptions

__all__ = ["quota_for", "quota_spec"]

_known: dict[tuple[int | None, float | None, str | None, str], Quota] = {}


def quota_spec(options: ServingOptions, caller: Caller) -> dict[str, Any] | None:
    """What a runner needs to charge this caller's quota, or None without one."""
    quota = admission_for(options).quota
    if quota is None:
        return None
    # in this process, the runner charges this very Quota (counters in memory are per object)
    key = (quota.tokens_per_day, quota.usd_per_day, options.limits_storage, quota.namespace)
    _known[key] = quota
    return {
        "tokens_per_day": quota.tokens_per_day,
        "usd_per_day": quota.usd_per_day,
        "storage": options.limits_storage,
        "namespace": quota.namespace,
        "key": caller_key(caller),
    }


def quota_for(spec: Mapping[str, Any] | None) -> tuple[Quota, str] | None:
    """The quota (shared per settings, with its Redis clients) and the key to charge."""
    if spec is None:
        return None
    quota = _quota(spec["tokens_per_day"], spec["usd_per_day"], spec["storage"], spec["namespace"])
    return quota, str(spec["key"])


def _quota(tokens: int | None, usd: float | None, storage: str | None, namespace: str) -> Quota:
    key = (tokens, usd, storage, namespace)
    quota = _known.get(key)
    if quota is None:  # another process (a Celery worker): its own clients, the same counters
        made = Quota(tokens_per_day=tokens, usd_per_day=usd, storage=storage, namespace=namespace)
        quota = _known.setdefault(key, made)
    return quota
