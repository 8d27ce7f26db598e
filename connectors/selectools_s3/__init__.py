"""S3 buckets as agent tools: list and read within an allowlist, opt-in writes and deletes."""

from __future__ import annotations

from selectools.extras import require

require("boto3", extra="s3", feature="selectools_s3")

from .errors import S3RefusedError, S3ToolError, S3UpstreamError  # noqa: E402
from .toolkit import S3Toolkit  # noqa: E402

__all__ = ["S3RefusedError", "S3ToolError", "S3Toolkit", "S3UpstreamError"]
