"""An agent reading reports from S3, within one bucket and prefix.

Runs offline against moto's in-memory S3 (`pip install moto`); with real AWS,
pass `boto3.client("s3")` and your bucket instead.
Run: python examples/connectors/s3_agent.py
"""

from __future__ import annotations

import os

import boto3
from moto import mock_aws
from selectools_s3 import S3Toolkit

from selectools import Agent, ScriptedProvider, call


def main() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="acme-reports")
        s3.put_object(
            Bucket="acme-reports",
            Key="2026/q3.md",
            Body=b"Q3 revenue grew 12%.",
            ContentType="text/markdown",
        )
        toolkit = S3Toolkit(bucket="acme-reports", prefix="2026/", client=s3)
        model = ScriptedProvider(
            [
                call("list_objects"),
                call("read_object", key="q3.md"),
                call("read_object", key="../secrets.txt"),  # refused: outside the prefix
                "Revenue grew 12% in Q3.",
            ]
        )
        result = Agent(toolkit.tools(), model).run("How did Q3 go?")
    for record in result.tool_calls:
        print(f"{record.name}: {record.error or record.output[:100]}")
    print("Answer:", result.text)


if __name__ == "__main__":
    main()
