"""Local servers that speak real protocols, for the tests and the production rehearsal (never imported by the site).

- an S3-protocol server: moto's standalone server (`moto_server`, from requirements-dev.txt), a real HTTP
  server on 127.0.0.1 that boto3 and django-storages talk to exactly as they talk to S3;
- an SMTP sink (aiosmtpd) that keeps every message it accepted, and can be told to hang before accepting one,
  as a slow mail server does.
"""

import os
import shlex
import shutil
import socket
import string
import subprocess
import sys
import threading
import time
from email import message_from_bytes
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, host: str = "127.0.0.1", timeout: float = 30.0, process=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process for port {port} exited with {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing answered on {host}:{port} within {timeout} s")


def procfile_command(kind: str, env: dict, bin_dir: Path) -> list[str]:
    """The `kind:` line of Procfile.production, its ${VARIABLES} filled in from `env`, its program from `bin_dir`
    (a virtualenv's bin/): the production rehearsal and the benchmarks start a process exactly as it is written."""
    procfile = Path(__file__).resolve().parent.parent / "Procfile.production"
    for line in procfile.read_text().splitlines():
        if line.startswith(f"{kind}:"):
            words = shlex.split(string.Template(line.split(":", 1)[1].strip()).substitute(env))
            return [str(bin_dir / words[0]), *words[1:]]
    raise KeyError(kind)


def moto_server_command() -> str | None:
    here = Path(sys.executable).parent / "moto_server"
    return str(here) if here.exists() else shutil.which("moto_server")


def public_prefix_policy(bucket: str) -> dict:
    """The bucket policy README gives: browsers may read public/ (avatars, portfolio images), nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicUploads",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/public/*",
            }
        ],
    }


class S3Server:
    """moto's standalone S3 server in a process of its own."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> "S3Server":
        command = moto_server_command()
        if command is None:
            raise FileNotFoundError("moto_server is not installed (pip install -r requirements-dev.txt)")
        self.process = subprocess.Popen(
            [command, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"},
        )
        wait_for_port(self.port, process=self.process)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="hamkar-test",
            aws_secret_access_key="hamkar-test-secret",
        )

    def create_bucket(self, name: str) -> str:
        """A bucket set up as README asks: anyone may read the public/ prefix, nothing else without a signature."""
        import json

        client = self.client()
        client.create_bucket(Bucket=name)
        client.put_bucket_policy(Bucket=name, Policy=json.dumps(public_prefix_policy(name)))
        return name

    def keys(self, bucket: str) -> list[str]:
        answer = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    def storage_env(self, bucket: str) -> dict:
        """The environment variables that point the site at this server."""
        return {
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": self.url,
            "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": "hamkar-test",
            "S3_SECRET_ACCESS_KEY": "hamkar-test-secret",
        }

    def storages_setting(self, bucket: str) -> dict:
        """settings.STORAGES for this server, built as marketplace/settings.py builds it from storage_env()."""
        from marketplace.s3 import s3_storages

        return {
            **s3_storages(bucket=bucket, endpoint_url=self.url, region="us-east-1", access_key="hamkar-test",
                          secret_key="hamkar-test-secret"),
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }  # fmt: skip


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps what it accepts. `hold` makes it wait before answering RCPT, so a
    client can be caught (and killed) in the middle of sending."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list = []
        self.hold = threading.Event()
        self.held = threading.Event()  # set while a client waits on `hold`
        self._controller = None

    def start(self) -> "SmtpSink":
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                import asyncio

                while sink.hold.is_set():
                    sink.held.set()
                    await asyncio.sleep(0.05)
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                sink.messages.append(message_from_bytes(envelope.original_content or envelope.content))
                return "250 Message accepted for delivery"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        self.hold.clear()
        if self._controller is not None:
            self._controller.stop()

    def wait_for(self, predicate, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [message for message in list(self.messages) if predicate(message)]
            if found:
                return found
            time.sleep(0.1)
        return []
