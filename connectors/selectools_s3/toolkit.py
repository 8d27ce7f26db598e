"""S3Toolkit: list and read objects inside allowed buckets and a prefix; writes opt-in."""

from __future__ import annotations

import posixpath
from collections.abc import Collection
from typing import Any

from selectools import SelectoolsError, Tool
from selectools.tools import method_tool

__all__ = ["S3AccessError", "S3Toolkit"]

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/yaml",
    "application/x-yaml",
    "application/csv",
    "application/javascript",
)


class S3AccessError(SelectoolsError):
    """The bucket or key is outside what this toolkit may touch, or AWS refused it."""


class S3Toolkit:
    """Tools over S3 buckets fixed at construction; the model picks keys, never accounts.

    Args:
        bucket: the one bucket to use (the tools then take no bucket argument).
        bucket_allowlist: several buckets the model may choose between.
        prefix: keys must start with it (e.g. "reports/"); listing is scoped to it.
        client: a boto3 S3 client (default: `boto3.client("s3")` from the usual
            environment; credentials are never shown to the model).
        max_bytes: bytes read from one object at most (a Range request; the
            model is told when it was cut).
        max_keys: keys per listing page.
        allow_writes, allow_deletes: add the write and delete tools.
    """

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
    ) -> None:
        buckets = [bucket] if bucket else list(bucket_allowlist or ())
        if not buckets:
            raise ValueError("S3Toolkit needs bucket=... or bucket_allowlist=[...].")
        self.buckets = tuple(buckets)
        stripped = prefix.strip("/")
        self.prefix = f"{stripped}/" if stripped else ""  # "reports" must not match "reports-x/"
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client = client
        self.max_bytes = max_bytes
        self.max_keys = max_keys
        self.allow_writes = allow_writes
        self.allow_deletes = allow_deletes
        self.name_prefix = name_prefix

    def tools(self) -> list[Tool]:
        made = [self._tool(self.list_objects), self._tool(self.read_object)]
        if self.allow_writes:
            made.append(self._tool(self.write_object))
        if self.allow_deletes:
            made.append(self._tool(self.delete_object))
        return made

    def _tool(self, method: Any) -> Tool:
        if len(self.buckets) == 1:  # one bucket: the model never names it
            return method_tool(method, prefix=self.name_prefix, hidden={"bucket"})
        return method_tool(method, prefix=self.name_prefix, choices={"bucket": self.buckets})

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
        head = self._call("head_object", name, full_key, Bucket=name, Key=full_key)
        size = int(head.get("ContentLength", 0))
        content_type = str(head.get("ContentType") or "application/octet-stream")
        info: dict[str, Any] = {"key": full_key, "size": size, "content_type": content_type}
        if not content_type.startswith(_TEXT_TYPES):
            return {**info, "note": "Binary object: only its metadata is shown."}
        kwargs: dict[str, Any] = {"Bucket": name, "Key": full_key}
        if size > self.max_bytes:
            kwargs["Range"] = f"bytes=0-{self.max_bytes - 1}"
        body = self._call("get_object", name, full_key, **kwargs)["Body"].read()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("utf-8", errors="ignore") if size > self.max_bytes else None
        if text is None:
            return {**info, "note": "The object is not UTF-8 text: only its metadata is shown."}
        result = {**info, "text": text, "truncated": size > self.max_bytes}
        if size > self.max_bytes:
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
        name = self._bucket(bucket)
        full_key = self._key(key)
        data = content.encode("utf-8")
        if len(data) > self.max_bytes:
            raise S3AccessError(f"The content is {len(data)} bytes; the limit is {self.max_bytes}.")
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
        name = self._bucket(bucket)
        full_key = self._key(key)
        self._call("head_object", name, full_key, Bucket=name, Key=full_key)  # 404 if missing
        self._call("delete_object", name, full_key, Bucket=name, Key=full_key)
        return {"deleted": full_key}

    # -- guards and errors -------------------------------------------------------

    def _bucket(self, bucket: str | None) -> str:
        if bucket is None:
            if len(self.buckets) == 1:
                return self.buckets[0]
            raise S3AccessError(f"Name a bucket: one of {', '.join(self.buckets)}.")
        if bucket not in self.buckets:
            raise S3AccessError(
                f"Bucket '{bucket}' is not allowed. Allowed: {', '.join(self.buckets)}."
            )
        return bucket

    def _key(self, key: str, *, allow_empty: bool = False) -> str:
        """Refuse absolute keys and '..' tricks; keep every key inside the prefix."""
        if not key and not allow_empty:
            raise S3AccessError("Send a key.")
        if key.startswith("/") or "\\" in key or "\x00" in key:
            raise S3AccessError(f"Key '{key}' is not allowed: use a relative key without '\\'.")
        if any(part in ("..", ".") for part in key.split("/")):
            raise S3AccessError(f"Key '{key}' is not allowed: '.' and '..' segments are refused.")
        full = key if key.startswith(self.prefix) else posixpath.join(self.prefix, key)
        if not full.startswith(self.prefix):
            raise S3AccessError(f"Key '{key}' is outside the allowed prefix '{self.prefix}'.")
        return full

    def _call(self, operation: str, bucket: str, key: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise S3AccessError(
                    f"No object '{key}' in bucket '{bucket}'. List objects to see what exists."
                ) from None
            if code in ("AccessDenied", "403", "Forbidden"):
                raise S3AccessError(f"AWS denied access to '{key}' in bucket '{bucket}'.") from None
            if code == "NoSuchBucket":
                raise S3AccessError(f"Bucket '{bucket}' does not exist.") from None
            raise S3AccessError(
                f"S3 {operation} failed: {code} {error.get('Message', '')}".strip()
            ) from None
        except BotoCoreError as exc:
            raise S3AccessError(f"Could not reach S3: {exc}") from None
