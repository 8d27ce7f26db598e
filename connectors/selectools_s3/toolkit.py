"""S3Toolkit: list and read objects inside allowed buckets and a prefix; writes opt-in."""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Callable, Collection
from typing import Any

from selectools.tools import Tool, Toolkit, method_tool

from .errors import S3RefusedError, S3UpstreamError

__all__ = ["S3Toolkit"]

logger = logging.getLogger(__name__)

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/yaml",
    "application/x-yaml",
    "application/csv",
    "application/javascript",
)
_CONTENT_RANGE = re.compile(r"bytes \d+-\d+/(\d+)")


class S3Toolkit(Toolkit):
    """Tools over S3 buckets fixed at construction; the model picks keys, never accounts.

    Args:
        bucket: the one bucket to use (the tools then take no bucket argument).
        bucket_allowlist: several buckets the model may choose between.
        prefix: keys must start with it (e.g. "reports/"); listing is scoped to it.
        client: a boto3 S3 client (default: `boto3.client("s3")` from the usual
            environment, closed by `close()`; credentials are never shown to the model).
        max_bytes: bytes read from one object at most: every GET asks for that
            range only, and what comes back is counted, so an object rewritten
            meanwhile (or a server ignoring Range) cannot exceed it.
        max_keys: keys per listing page.
        allow_writes, allow_deletes: add the write and delete tools (and let
            the methods of the same names run at all).
    """

    name = "s3"

    def __init__(
        self,
        *,
        bucket: str | None = None,
        bucket_allowlist: Collection[str] | None = None,
        prefix: str = "",
        client: Any = None,
        max_bytes: int = 100_000,
        max_keys: int = 100,
        allow_writes: bool = False,
        allow_deletes: bool = False,
        name_prefix: str = "",
        require_approval: bool = True,
    ) -> None:
        if bucket and bucket_allowlist:  # which one was meant? neither may be dropped silently
            raise ValueError(
                "S3Toolkit takes bucket=... (one bucket) or bucket_allowlist=[...] (several), "
                "not both; put the one bucket in the allowlist too if the model may choose."
            )
        buckets = [bucket] if bucket else list(bucket_allowlist or ())
        if not buckets:
            raise ValueError("S3Toolkit needs bucket=... or bucket_allowlist=[...].")
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, got {max_bytes}.")
        self.buckets = tuple(buckets)
        stripped = prefix.strip("/")
        self.prefix = f"{stripped}/" if stripped else ""  # "reports" must not match "reports-x/"
        self._owns_client = client is None
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client = client
        self.max_bytes = max_bytes
        self.max_keys = max_keys
        self.allow_writes = allow_writes
        self.require_approval = require_approval
        self.allow_deletes = allow_deletes
        self.name_prefix = name_prefix

    def tools(self) -> list[Tool]:
        made = [self._tool(self.list_objects), self._tool(self.read_object)]
        if self.allow_writes:
            made.append(self._tool(self.write_object, writes=True))
        if self.allow_deletes:
            made.append(self._tool(self.delete_object, writes=True))
        return made

    def close(self) -> None:
        """Close the boto3 client if this toolkit created it (a client you passed stays open)."""
        if self._owns_client:
            self.client.close()

    def _tool(self, method: Callable[..., Any], *, writes: bool = False) -> Tool:
        approval = writes and self.require_approval
        if len(self.buckets) == 1:  # one bucket: the model never names it
            return method_tool(
                method,
                prefix=self.name_prefix,
                hidden={"bucket"},
                writes=writes,
                requires_approval=approval,
            )
        return method_tool(
            method,
            prefix=self.name_prefix,
            choices={"bucket": self.buckets},
            writes=writes,
            requires_approval=approval,
        )

    # -- the tools ---------------------------------------------------------------

    def list_objects(
        self, prefix: str = "", continuation_token: str | None = None, bucket: str | None = None
    ) -> dict[str, Any]:
        """List objects (key, size, last modified), one page at a time.

        Args:
            prefix: only keys starting with this (inside the allowed prefix)
            continuation_token: the `next_token` of the previous page
            bucket: which allowed bucket
        """
        name = self._bucket(bucket)
        scope = self._key(prefix, allow_empty=True) if prefix else self.prefix
        kwargs: dict[str, Any] = {"Bucket": name, "Prefix": scope, "MaxKeys": self.max_keys}
        if continuation_token:
            kwargs["ContinuationToken"] = continuation_token
        page = self._call("list_objects_v2", name, scope, **kwargs)
        objects = [
            {"key": o["Key"], "size": o["Size"], "last_modified": o["LastModified"].isoformat()}
            for o in page.get("Contents", [])
            if str(o["Key"]).startswith(self.prefix)
        ]
        return {"objects": objects, "next_token": page.get("NextContinuationToken")}

    def read_object(self, key: str, bucket: str | None = None) -> dict[str, Any]:
        """Read a text object (JSON, CSV, Markdown, ...); binary objects give metadata only.

        Args:
            key: the object's key
            bucket: which allowed bucket
        """
        name = self._bucket(bucket)
        full_key = self._key(key)
        # One ranged GET: the size and type come from the same response as the bytes,
        # so nothing learnt earlier (a HEAD) can be outdated by a rewrite in between.
        got = self._get_range(name, full_key)
        if got is None:  # an empty object: S3 cannot satisfy any range of it
            return {"key": full_key, "size": 0, "content_type": "", "text": "", "truncated": False}
        body = got["Body"]
        try:
            content_type = str(got.get("ContentType") or "application/octet-stream")
            if not content_type.startswith(_TEXT_TYPES):
                size = _total_size(got, None)
                info = {"key": full_key, "size": size, "content_type": content_type}
                return {**info, "note": "Binary object: only its metadata is shown."}
            data = body.read(self.max_bytes + 1)  # one byte more tells a range that was ignored
        finally:
            body.close()
        size = _total_size(got, len(data))
        truncated = len(data) > self.max_bytes or size > self.max_bytes
        data = data[: self.max_bytes]
        info = {"key": full_key, "size": size, "content_type": content_type}
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            if not truncated:
                return {**info, "note": "The object is not UTF-8 text: only its metadata is shown."}
            text = data.decode("utf-8", errors="ignore")  # a character cut at the end
        result: dict[str, Any] = {**info, "text": text, "truncated": truncated}
        if truncated:
            result["note"] = f"Only the first {self.max_bytes} of {size} bytes are shown."
        return result

    def write_object(
        self, key: str, content: str, content_type: str = "text/plain", bucket: str | None = None
    ) -> dict[str, Any]:
        """Create or replace a text object.

        Args:
            key: the object's key
            content: the text to store
            content_type: its MIME type
            bucket: which allowed bucket
        """
        if not self.allow_writes:
            raise S3RefusedError("This S3 toolkit is read-only: writing objects is not enabled.")
        name = self._bucket(bucket)
        full_key = self._key(key)
        data = content.encode("utf-8")
        if len(data) > self.max_bytes:
            raise S3RefusedError(
                f"The content is {len(data)} bytes; the limit is {self.max_bytes}. Send less."
            )
        self._call(
            "put_object",
            name,
            full_key,
            Bucket=name,
            Key=full_key,
            Body=data,
            ContentType=content_type,
        )
        return {"key": full_key, "size": len(data)}

    def delete_object(self, key: str, bucket: str | None = None) -> dict[str, Any]:
        """Delete an object.

        Args:
            key: the object's key
            bucket: which allowed bucket
        """
        if not self.allow_deletes:
            raise S3RefusedError("Deleting objects is not enabled for this S3 toolkit.")
        name = self._bucket(bucket)
        full_key = self._key(key)
        self._call("head_object", name, full_key, Bucket=name, Key=full_key)  # 404 if missing
        self._call("delete_object", name, full_key, Bucket=name, Key=full_key)
        return {"deleted": full_key}

    # -- guards and errors -------------------------------------------------------

    def _get_range(self, bucket: str, key: str) -> dict[str, Any] | None:
        """A GET of the first `max_bytes` bytes; None for an empty object (no range fits it)."""
        got: dict[str, Any] | None = self._call(
            "get_object",
            bucket,
            key,
            unsatisfiable_range_ok=True,
            Bucket=bucket,
            Key=key,
            Range=f"bytes=0-{self.max_bytes - 1}",
        )
        if got is not None:
            return got
        head = self._call("head_object", bucket, key, Bucket=bucket, Key=key)
        if int(head.get("ContentLength", 0)) == 0:
            return None
        raise S3UpstreamError(f"S3 could not read '{key}' in bucket '{bucket}'. Try again.")

    def _bucket(self, bucket: str | None) -> str:
        if bucket is None:
            if len(self.buckets) == 1:
                return self.buckets[0]
            raise S3RefusedError(f"Name a bucket: one of {', '.join(self.buckets)}.")
        if bucket not in self.buckets:
            raise S3RefusedError(
                f"Bucket '{bucket}' is not allowed. Allowed: {', '.join(self.buckets)}."
            )
        return bucket

    def _key(self, key: str, *, allow_empty: bool = False) -> str:
        """Refuse absolute keys and '..' tricks; keep every key inside the prefix."""
        if not key and not allow_empty:
            raise S3RefusedError("Send a key.")
        if key.startswith("/") or "\\" in key or "\x00" in key:
            raise S3RefusedError(f"Key '{key}' is not allowed: use a relative key without '\\'.")
        if any(part in ("..", ".") for part in key.split("/")):
            raise S3RefusedError(f"Key '{key}' is not allowed: '.' and '..' segments are refused.")
        full = key if key.startswith(self.prefix) else posixpath.join(self.prefix, key)
        if not full.startswith(self.prefix):
            raise S3RefusedError(f"Key '{key}' is outside the allowed prefix '{self.prefix}'.")
        return full

    def _call(
        self,
        operation: str,
        bucket: str,
        key: str,
        *,
        unsatisfiable_range_ok: bool = False,
        **kwargs: Any,
    ) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            if unsatisfiable_range_ok and _code(exc) == "InvalidRange":
                return None
            raise self._translate(exc, operation, bucket, key) from None
        except BotoCoreError as exc:
            logger.warning("S3 %s on %s/%s failed: %s", operation, bucket, key, exc)
            raise S3UpstreamError("Could not reach S3. Try again later.") from None

    @staticmethod
    def _translate(exc: Any, operation: str, bucket: str, key: str) -> S3UpstreamError:
        code = _code(exc)
        if code in ("NoSuchKey", "404", "NotFound"):
            return S3UpstreamError(
                f"No object '{key}' in bucket '{bucket}'. List objects to see what exists."
            )
        if code in ("AccessDenied", "403", "Forbidden"):
            return S3UpstreamError(f"AWS denied access to '{key}' in bucket '{bucket}'.")
        if code == "NoSuchBucket":
            return S3UpstreamError(f"Bucket '{bucket}' does not exist.")
        logger.warning("S3 %s on %s/%s failed: %s", operation, bucket, key, exc)
        return S3UpstreamError(f"S3 {operation} failed ({code or 'unknown error'}). Try again.")


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _total_size(got: dict[str, Any], read: int | None) -> int:
    """The object's full size: from Content-Range when the range was honoured."""
    match = _CONTENT_RANGE.fullmatch(str(got.get("ContentRange") or ""))
    if match:
        return int(match.group(1))
    length = int(got.get("ContentLength") or 0)
    return max(length, read or 0)
