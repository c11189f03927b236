"""The production stack, run as it will run, on one machine: what CI runs on every submission (.ci/run).

    .venv/bin/python scripts/production_rehearsal.py [--keep] [--venv-only]

1. A virtualenv made of requirements.txt alone (var/rehearsal/venv): what production installs, nothing the
   test tools bring in.
2. Its own services: a fresh PostgreSQL database, a Redis server of its own (so it can be stopped), moto's S3
   server behind TLS, and an SMTP sink; DJANGO_ENV=production with every variable README names.
3. migrate (then beat starts, from Procfile.production), compile_translations, collectstatic,
   `check --deploy --fail-level WARNING`, seed_demo.
4. The smoke test: gunicorn and a Celery worker, each started from Procfile.production. A page is served;
   a sign-up's e-mail is delivered by the worker to the SMTP server, its log lines carrying the request's id;
   beat's sweeps run; a 150 MB upload keeps the gunicorn worker's memory bounded; a worker killed in the middle
   of sending is replaced and the e-mail goes out once.
5. Two machines on one: a second gunicorn with its own local folders, a second worker, nginx (the site file in
   deploy/nginx/hamkar.conf) round-robin in front. In Chromium: the freelancer uploads, the employer pays and
   downloads, the bytes match across both web machines; a chat message sent on one appears through the other.
   Through nginx, one client's failed logins do not lock out another client (the trusted-proxy setting).
6. Faults: Redis down, then the object store down: /health/ says which, with 503; pages still answer.
7. Every process stops cleanly on SIGTERM.

Needs PostgreSQL on 127.0.0.1:5432 (DATABASE_ADMIN_URL), redis-server, nginx and chromium on the PATH, and the
dev tools (moto, aiosmtpd, playwright) in the virtualenv that runs this script. --venv-only builds and checks the
virtualenv of step 1 and stops: .ci/run builds it while the test suite runs.
"""

import argparse
import functools
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import string
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from marketplace.servers import S3Server, SmtpSink, free_port, procfile_command, wait_for_port  # noqa: E402

WORK = BASE_DIR / "var" / "rehearsal"
VENV = WORK / "venv"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DEMO_PASSWORD = "demo-pass-1234"


class Rehearsal:
    def __init__(self, keep: bool):
        self.keep = keep
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.passed: list[str] = []
        self.failed: list[str] = []
        self.run_dir = WORK / time.strftime("run-%Y%m%d-%H%M%S")
        self.run_dir.mkdir(parents=True, exist_ok=True)

    # --- reporting -------------------------------------------------------------------------------------------

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        (self.passed if ok else self.failed).append(name)
        detail = detail.strip()
        if ok and ("\n" in detail or len(detail) > 160):
            detail = ""  # a passing check's long output stays in the logs
        print(f"{'ok  ' if ok else 'FAIL'} {name}{(': ' + detail) if detail else ''}", flush=True)
        return ok

    def require(self, name: str, ok: bool, detail: str = "") -> None:
        if not self.check(name, ok, detail):
            raise SystemExit(f"rehearsal stopped: {name} failed; logs in {self.run_dir}")

    # --- processes -------------------------------------------------------------------------------------------

    def start(self, name: str, command: list[str], env: dict, cwd: Path | None = None) -> subprocess.Popen:
        log = self.run_dir / f"{name}.log"
        if log.exists():  # a restart: the earlier run's lines stay beside it, out of the way of the next checks
            log.rename(self.run_dir / f"{name}.{time.monotonic_ns()}.log")
        self.logs[name] = log
        process = subprocess.Popen(
            command,
            cwd=cwd or BASE_DIR,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its children
        )
        self.processes[name] = process
        return process

    def stop(self, name: str, sig=signal.SIGTERM, timeout: float = 40) -> int | None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return process.returncode if process else None
        os.killpg(process.pid, sig)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
            return None

    def wait_for_process_exit(self, name: str, timeout: float) -> bool:
        process = self.processes[name]
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        self.processes.pop(name)
        return True

    def wait_for_worker_log(self, pattern: str, timeout: float) -> re.Match | None:
        """`pattern` in the log of any worker started so far (a restarted worker's earlier log included)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for log in sorted(self.run_dir.glob("worker*.log")):
                found = re.search(pattern, log.read_text(errors="replace"))
                if found:
                    return found
            time.sleep(0.3)
        return None

    def log_text(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace") if name in self.logs else ""

    def wait_for_log(self, name: str, pattern: str, timeout: float) -> re.Match | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.log_text(name))
            if found:
                return found
            time.sleep(0.3)
        return None

    def procfile(self, kind: str, env: dict) -> list[str]:
        """A line of Procfile.production, its variables filled in from `env`, its programs from the venv."""
        return procfile_command(kind, env, VENV / "bin")

    def manage(self, env: dict, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(VENV / "bin" / "python"), "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    # --- the stages ------------------------------------------------------------------------------------------

    def build_venv(self) -> None:
        """requirements.txt alone, reused while the file is unchanged (CI starts from a clean clone)."""
        stamp = VENV / ".requirements-sha256"
        digest = hashlib.sha256((BASE_DIR / "requirements.txt").read_bytes()).hexdigest()
        if not (stamp.exists() and stamp.read_text() == digest):
            shutil.rmtree(VENV, ignore_errors=True)
            python = os.environ.get("REHEARSAL_PYTHON", "python3")
            subprocess.run([python, "-m", "venv", str(VENV)], check=True)
            install = subprocess.run(
                [
                    str(VENV / "bin" / "pip"),
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                    str(BASE_DIR / "requirements.txt"),
                ],
                capture_output=True,
                text=True,
            )
            self.require("pip install -r requirements.txt", install.returncode == 0, install.stderr[-2000:])
            stamp.write_text(digest)
        pip_check = subprocess.run([str(VENV / "bin" / "pip"), "check"], capture_output=True, text=True)
        self.require(
            "a virtualenv of requirements.txt alone is consistent (pip check)",
            pip_check.returncode == 0,
            pip_check.stdout.strip(),
        )
        extras = subprocess.run([str(VENV / "bin" / "python"), "-c", "import pytest"], capture_output=True, text=True)
        self.require("the production virtualenv holds no test tools (pytest absent)", extras.returncode != 0)

    def start_services(self) -> dict:
        admin_url = os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        database = "hamkar_rehearsal"
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [database])
            connection.execute(f'DROP DATABASE IF EXISTS "{database}"')
            connection.execute(f'CREATE DATABASE "{database}"')
        self.database_url = admin_url.rsplit("/", 1)[0] + f"/{database}"
        self.database_admin_url = admin_url

        self.redis_port = free_port()
        self.start_redis()

        # TLS for nginx (the site and the object store's public face): one self-signed certificate.
        self.cert, self.key = self.run_dir / "tls.crt", self.run_dir / "tls.key"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                str(self.key),
                "-out",
                str(self.cert),
            ],
            check=True,
            capture_output=True,
        )

        self.s3 = S3Server().start()
        self.bucket = self.s3.create_bucket("hamkar-rehearsal")
        self.s3_tls_port = free_port()
        self.smtp = SmtpSink().start()

        self.https_port = free_port()
        self.http_port = free_port()
        self.site = f"https://localhost:{self.https_port}"
        self.web_ports = {"web1": free_port(), "web2": free_port()}
        self.events_port = free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "REQUIRE_", "PYTEST", "VIRTUAL_ENV"))
            and key not in ("DATABASE_URL", "REDIS_URL", "PYTHONPATH")
        }
        env.update(
            PATH=f"{VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
            DJANGO_ENV="production",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="localhost,127.0.0.1",
            CSRF_TRUSTED_ORIGINS=self.site,
            SITE_URL=self.site,
            DATABASE_URL=self.database_url,
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            EMAIL_URL=f"smtp://127.0.0.1:{self.smtp.port}",
            DEFAULT_FROM_EMAIL="Hamkar <no-reply@hamkar.example>",
            STATIC_ROOT=str(self.run_dir / "static"),
            TRUSTED_PROXY_COUNT="1",
            # A task whose worker died is delivered again after 15 s instead of an hour (stage 4 kills one).
            CELERY_VISIBILITY_TIMEOUT="15",
            CELERY_CONCURRENCY="2",
            # The live stream's ASGI server (Procfile.production "events"): two workers sharing the port.
            EVENTS_HOST="127.0.0.1",
            EVENTS_PORT=str(self.events_port),
            EVENTS_WORKERS="2",
            AWS_CA_BUNDLE=str(self.cert),  # the object store's TLS certificate is our own
            # A real gateway for toman, as production must have (no payment is made in the rehearsal).
            PAYMENT_GATEWAYS="IRT=zarinpal",
            ZARINPAL_MERCHANT_ID="7e5b3c2a-9f41-4d1e-8a6b-2c0f9e7d5a31",
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
            **self.s3.storage_env(self.bucket),
        )
        env["S3_ENDPOINT_URL"] = f"https://127.0.0.1:{self.s3_tls_port}"
        return env

    def start_redis(self) -> None:
        self.start(
            "redis",
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "", "--appendonly", "no"],
            env=dict(os.environ),
        )
        wait_for_port(self.redis_port, process=self.processes["redis"])

    def prepare(self, env: dict) -> None:
        self.start_nginx(env, upstreams=["web1"])  # the object store's TLS face is needed from the first upload
        for args, name in [
            (("migrate", "--noinput"), "migrate"),
            (("compile_translations",), "compile_translations"),
            (("collectstatic", "--noinput"), "collectstatic"),
            (("check", "--deploy", "--fail-level", "WARNING"), "check --deploy --fail-level WARNING"),
            (("seed_demo",), "seed_demo (uploads to object storage)"),
        ]:
            result = self.manage(env, *args)
            self.require(f"manage.py {name}", result.returncode == 0, (result.stdout + result.stderr)[-1500:])
            if name == "migrate":
                # Beat needs the migrated database and Redis, nothing else. Its first sweeps are due a minute after
                # it starts: started here, they come while the smoke test runs, not after it.
                self.start("beat", self.procfile("beat", env), env)
        keys = self.s3.keys(self.bucket)
        self.check(
            "the demo's deliverables are in the bucket",
            any(key.startswith("private/deliverables/") for key in keys),
            f"{len(keys)} objects",
        )

    def start_web(self, name: str, env: dict) -> dict:
        folder = self.run_dir / name
        web_env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.web_ports[name]}",
            "WEB_CONCURRENCY": "1",  # one worker a machine: the memory measurement knows which process to watch
            "INSTANCE_NAME": name,
            # Each machine's own disk: nothing may depend on it (files live on object storage).
            "MEDIA_ROOT": str(folder / "media"),
            "PRIVATE_MEDIA_ROOT": str(folder / "private"),
            "TMPDIR": str(folder / "tmp"),
        }
        (folder / "tmp").mkdir(parents=True, exist_ok=True)
        process = self.start(name, self.procfile("web", web_env), web_env)
        wait_for_port(self.web_ports[name], process=process, timeout=60)
        return web_env

    def start_worker(self, name: str, env: dict) -> None:
        worker_env = {**env, "INSTANCE_NAME": name}
        self.start(name, self.procfile("worker", worker_env), worker_env)
        self.require(
            f"Celery {name} is ready", bool(self.wait_for_log(name, r"@\S+ ready\.", 60)), self.log_text(name)[-800:]
        )

    def start_nginx(self, env: dict, upstreams: list[str]) -> None:
        self.stop("nginx")
        site_file = string.Template((BASE_DIR / "deploy" / "nginx" / "hamkar.conf").read_text()).safe_substitute(
            HAMKAR_UPSTREAM_SERVERS=" ".join(f"server 127.0.0.1:{self.web_ports[n]};" for n in upstreams),
            HAMKAR_EVENTS_SERVERS=f"server 127.0.0.1:{self.events_port};",
            HAMKAR_HTTP_LISTEN=f"127.0.0.1:{self.http_port}",
            HAMKAR_HTTPS_LISTEN=f"127.0.0.1:{self.https_port}",
            HAMKAR_SERVER_NAME="localhost",
            HAMKAR_TLS_CERTIFICATE=str(self.cert),
            HAMKAR_TLS_CERTIFICATE_KEY=str(self.key),
            HAMKAR_MEDIA_ROOT=str(self.run_dir / "unused-media"),
            HAMKAR_PRIVATE_MEDIA_ROOT=str(self.run_dir / "unused-private"),
        )
        prefix = self.run_dir / "nginx"
        (prefix / "logs").mkdir(parents=True, exist_ok=True)
        (prefix / "hamkar.conf").write_text(site_file)
        # The object store, as production reaches it: over TLS (here moto behind this nginx; the Host header is
        # kept so the presigned signatures still match).
        (prefix / "nginx.conf").write_text(f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/logs/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/hamkar.conf;
    server {{
        listen 127.0.0.1:{self.s3_tls_port} ssl;
        ssl_certificate {self.cert};
        ssl_certificate_key {self.key};
        client_max_body_size 0;
        location / {{
            proxy_pass http://127.0.0.1:{self.s3.port};
            proxy_set_header Host $http_host;
            proxy_request_buffering off;
        }}
    }}
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        test = subprocess.run(
            [nginx, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")], capture_output=True, text=True
        )
        self.require("nginx accepts deploy/nginx/hamkar.conf", test.returncode == 0, test.stderr[-800:])
        process = self.start(
            "nginx",
            [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
            env=dict(os.environ),
        )
        wait_for_port(self.https_port, process=process)
        wait_for_port(self.s3_tls_port, process=process)

    # --- stage 4: the smoke test -------------------------------------------------------------------------

    def smoke(self, env: dict) -> None:
        self.start_web("web1", env)
        self.start_worker("worker1", env)

        direct = Client(port=self.web_ports["web1"], tls=False, headers={"X-Forwarded-Proto": "https"})
        home = direct.get("/")
        self.require("gunicorn serves the home page", home.status == 200 and "Hamkar" in home.text, f"{home.status}")
        self.check(
            "pages answer with the security headers",
            "unsafe-inline" not in home.headers.get("Content-Security-Policy", "unsafe-inline")
            and bool(home.headers.get("Strict-Transport-Security")),
            home.headers.get("Content-Security-Policy", "")[:120],
        )
        plain = Client(port=self.web_ports["web1"], tls=False).get("/")
        self.check(
            "plain HTTP is redirected to HTTPS",
            plain.status == 301 and plain.headers.get("Location", "").startswith("https://"),
        )
        health = Client(port=self.web_ports["web1"], tls=False, host="10.0.0.1").get("/health/")
        body = json.loads(health.text or "{}")
        self.check(
            "GET /health/ by address: 200 and every service ok",
            health.status == 200 and set(body.get("services", {})) == {"database", "cache", "broker", "storage"},
            health.text[:300],
        )

        # A web request that queues a task: sign-up sends the verification e-mail through the outbox.
        email = f"smoke-{uuid.uuid4().hex[:8]}@example.com"
        response = direct.signup(email)
        self.require("sign-up through gunicorn", response.status == 302, f"{response.status} {response.text[:300]}")
        delivered = self.smtp.wait_for(lambda m: m["To"] == email, timeout=60)
        self.require("the worker delivered the sign-up e-mail over SMTP", len(delivered) == 1)
        # Its link is on the site's public address (SITE_URL, https), not on the host the request came in on.
        self.check("its link is https on SITE_URL", f"{self.site}/accounts/confirm-email/" in mail_text(delivered[0]))

        # Another: a proposal notifies the employer, whose e-mail the worker writes with SITE_URL's links.
        alex = Client(port=self.web_ports["web1"], tls=False, headers={"X-Forwarded-Proto": "https"})
        self.require("alex logs in", alex.login("alex@example.com", DEMO_PASSWORD))
        project = self.sql_one("SELECT id FROM projects_project WHERE title = %s",
                               ["Landing page redesign for an online tea shop"])  # fmt: skip
        response = alex.post(
            f"/projects/{project}/proposals/new/",
            {"amount": "5000000", "delivery_days": "12", "cover_letter": "A fast, clean landing page; Figma first."},
            page=f"/projects/{project}/",
        )
        request_id = response.headers.get("X-Request-ID", "")
        self.require("a proposal through gunicorn", response.status == 302, f"{response.status} {response.text[-300:]}")
        delivered = self.smtp.wait_for(
            lambda m: (
                "david@example.com" in m["To"] and "sent a proposal" in mail_text(m) and "tea shop" in mail_text(m)
            ),
            timeout=60,
        )
        self.require("the worker delivered the employer's notification over SMTP", len(delivered) == 1)
        self.check("the notification links to SITE_URL", f"{self.site}/" in mail_text(delivered[0]))
        worker_line = self.wait_for_log("worker1", rf'"request_id": "{re.escape(request_id)}"[^\n]*deliver_email', 10)
        self.check("the worker's JSON log line carries the request's id", bool(request_id) and worker_line is not None,
                   request_id)  # fmt: skip
        web_lines = [line for line in self.log_text("web1").splitlines() if request_id in line]
        self.check("gunicorn's access log line carries the same id", any('"status": 302' in line for line in web_lines))
        self.memory_bound_upload(direct)
        self.kill_a_worker_mid_task(env, direct)

        # Beat's first escrow sweep is due a minute after it started: the two stages above ran in the meantime.
        beat = self.wait_for_log("beat", r"Sending due task release-due-escrow", 90)
        self.check("beat sends the escrow sweep", beat is not None)
        swept = self.wait_for_worker_log(r"workspace\.tasks\.release_due_escrow\[[^\]]+\] succeeded", 30)
        self.check("a worker runs the sweep", swept is not None)

    def memory_bound_upload(self, direct: "Client") -> None:
        """A 150 MB deliverable through gunicorn: the worker's peak memory (VmHWM) grows far less than that."""
        mina = Client(port=self.web_ports["web1"], tls=False, headers={"X-Forwarded-Proto": "https"})
        self.require("mina logs in", mina.login("mina@example.com", DEMO_PASSWORD))
        contract = self.sql_one(
            "SELECT c.id FROM escrow_contract c JOIN projects_project p ON p.id = c.project_id WHERE p.title = %s",
            ["ترجمه و بومی‌سازی رابط کاربری اپلیکیشن"],
        )
        big = self.run_dir / "big.zip"
        with (
            zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as archive,
            archive.open("data.bin", "w", force_zip64=True) as entry,
        ):
            for _ in range(150):
                entry.write(os.urandom(1024 * 1024))
        # A first, small upload loads what any upload needs once (boto3's service models, the S3 client).
        small = self.run_dir / "small.zip"
        with zipfile.ZipFile(small, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("warm-up.bin", os.urandom(3 * 1024 * 1024))
        self.require("a first upload", mina.upload(f"/workspace/{contract}/upload/", small,
                                                   page=f"/workspace/{contract}/").status == 302)  # fmt: skip
        workers = gunicorn_workers(self.processes["web1"].pid)
        before = {pid: vm_hwm(pid) for pid in workers}
        started = time.monotonic()
        answer = mina.upload(f"/workspace/{contract}/upload/", big, page=f"/workspace/{contract}/")
        seconds = time.monotonic() - started
        after = {pid: vm_hwm(pid) for pid in workers}
        growth = max(after[pid] - before[pid] for pid in workers) / 1024
        stored = [key for key in self.s3.keys(self.bucket) if key.startswith(f"private/deliverables/{contract}/")]
        self.check(
            f"a 150 MB upload is stored ({seconds:.1f} s)",
            answer.status == 302 and len(stored) >= 3,
            f"{answer.status} {len(stored)} objects",
        )
        self.check(
            f"the gunicorn worker's peak memory grew {growth:.0f} MB for a 150 MB upload (limit 40 MB)",
            growth < 40,
            json.dumps({"before_kb": before, "after_kb": after}),
        )
        big.unlink()

    def kill_a_worker_mid_task(self, env: dict, direct: "Client") -> None:
        self.smtp.hold.set()
        email = f"killed-{uuid.uuid4().hex[:8]}@example.com"
        self.require("sign-up while the mail server hangs", direct.signup(email).status == 302)
        deadline = time.monotonic() + 30
        while not self.smtp.held.is_set() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.require("worker1 is caught in the middle of sending", self.smtp.held.is_set())
        taken_by = time.time()  # worker1 took the task before it reached the mail server
        self.stop("worker1", sig=signal.SIGKILL)
        self.smtp.hold.clear()
        self.smtp.held.clear()
        # The replacement starts once the task's visibility timeout has run out: a worker gives back such tasks
        # when it starts, and after that only in kombu's sweep every 100 s (unacked_restore_interval 10 s ×
        # unacked_restore_throttle 10), which a replacement started at once would wait for.
        time.sleep(max(0.0, taken_by + int(env["CELERY_VISIBILITY_TIMEOUT"]) + 1 - time.time()))
        self.start_worker("worker2", env)
        delivered = self.smtp.wait_for(lambda m: m["To"] == email, timeout=90)
        time.sleep(3)
        count = len([m for m in self.smtp.messages if m["To"] == email])
        self.check(
            "after a worker is killed mid-task, another sends the e-mail, once",
            len(delivered) == 1 and count == 1,
            f"{count} delivered",
        )
        self.start_worker("worker1", env)

    # --- stage 5: two machines ---------------------------------------------------------------------------------

    def two_machines(self, env: dict) -> None:
        self.start_web("web2", env)
        self.start_nginx(env, upstreams=["web1", "web2"])
        via_nginx = Client(port=self.https_port, tls=True, cafile=self.cert)
        self.check("nginx serves the site over TLS", via_nginx.get("/").status == 200)
        self.check("nginx answers /health/ to the private network", via_nginx.get("/health/").status == 200)
        self.live_updates(env)
        self.browser_story()
        self.rate_limits_see_the_real_client()
        self.searches_are_limited_per_address()

    def live_updates(self, env: dict) -> None:
        """The live stream from Procfile.production's "events" line, through nginx's /events/ location: a message
        posted on a gunicorn machine reaches the other party's open stream at once (Redis fans it out to whichever
        uvicorn worker holds it), unbuffered by nginx."""
        events = self.start("events", self.procfile("events", env), env)
        wait_for_port(self.events_port, process=events, timeout=60)
        conversation, employer, freelancer = self.sql_row(
            "SELECT c.id, o.email, f.email FROM proposals_conversation c"
            " JOIN projects_project p ON p.id = c.project_id JOIN accounts_user o ON o.id = p.owner_id"
            " JOIN accounts_user f ON f.id = c.freelancer_id ORDER BY c.id LIMIT 1",
            [],
        )
        client = functools.partial(Client, port=self.https_port, tls=True, cafile=self.cert)
        writer, reader = client(source="127.0.0.7"), client(source="127.0.0.8")
        self.require("both parties sign in through nginx", writer.login(employer, DEMO_PASSWORD)
                     and reader.login(freelancer, DEMO_PASSWORD))  # fmt: skip
        self.live_reader = reader  # the faults stage opens its stream again while Redis is down
        stream = reader.stream("/events/")
        self.check("nginx opens the live stream (200, text/event-stream)",
                   stream.status == 200 and stream.getheader("Content-Type", "").startswith("text/event-stream"),
                   f"{stream.status} {stream.getheaders()}")  # fmt: skip
        first = read_event(stream, timeout=10)
        self.check("the stream starts with the badges' counts", first is not None and first[0] == "counts", repr(first))
        anonymous = client(source="127.0.0.9").stream("/events/")
        self.check("nginx passes the stream's refusal of a visitor (403)", anonymous.status == 403)
        sent_at = time.monotonic()
        answer = writer.post(f"/messages/{conversation}/send/", {"body": "Live through nginx"},
                             page=f"/messages/{conversation}/")  # fmt: skip
        event = read_event(stream, timeout=10)
        while event is not None and event[0] != "message":  # "seen": the writer's page read the thread first
            event = read_event(stream, timeout=10)
        took = time.monotonic() - sent_at
        self.check(
            f"a message sent through gunicorn reaches the other party's stream through nginx in {took:.2f} s",
            answer.status == 302 and event is not None and event[0] == "message"
            and "Live through nginx" in json.loads(event[1])["html"]["en"] and took < 3,
            f"{answer.status} {event!r}",
        )  # fmt: skip
        stream.close()

    def rate_limits_see_the_real_client(self) -> None:
        """Through nginx, from three loopback addresses: an attacker guessing Reza's password, Reza on the device
        he logged in from before, and David elsewhere."""
        client = functools.partial(Client, port=self.https_port, tls=True, cafile=self.cert)
        owner = client(source="127.0.0.3")
        self.require("reza logs in from his own device", owner.login("reza@example.com", DEMO_PASSWORD))
        owner.cookies.pop("sessionid")  # he logs out; his browser keeps its device cookie
        attacker = client(source="127.0.0.2")
        refused = 0
        for _ in range(11):
            answer = attacker.login("reza@example.com", "wrong-password", raw=True)
            refused += answer.status == 429 or "Too many failed login attempts" in answer.text
        right_password = attacker.login("reza@example.com", DEMO_PASSWORD)
        self.check(f"through nginx, the attacker's address is stopped ({refused} of 11 refused)",
                   refused >= 5 and not right_password)  # fmt: skip
        self.check("the owner's own device still logs in", owner.login("reza@example.com", DEMO_PASSWORD))
        self.check("another address logs in to another account", client(source="127.0.0.4").login(
            "david@example.com", DEMO_PASSWORD))  # fmt: skip

    def searches_are_limited_per_address(self) -> None:
        """nginx lets one address start 2 searches a second after a burst of 20 (deploy/nginx/hamkar.conf): a
        crawler asking 40 new searches at once is refused some, while its plain pages and another address are not."""
        client = functools.partial(Client, port=self.https_port, tls=True, cafile=self.cert)
        crawler = client(source="127.0.0.5")
        answers = [crawler.get(f"/projects/?q=crawl{n}").status for n in range(40)]
        refused = answers.count(429)
        self.check(f"through nginx, a crawler's burst of searches is limited ({refused} of 40 refused with 429)",
                   refused >= 5 and set(answers) <= {200, 429} and answers[:20] == [200] * 20)  # fmt: skip
        self.check("the crawler's pages without a search still open", crawler.get("/projects/").status == 200)
        other = client(source="127.0.0.6")
        self.check("another address still searches", other.get("/projects/?q=crawl").status == 200)

    def browser_story(self) -> None:
        from playwright.sync_api import sync_playwright

        contract = self.sql_one(
            "SELECT c.id FROM escrow_contract c JOIN projects_project p ON p.id = c.project_id WHERE p.title = %s",
            ["پیاده‌سازی API پرداخت برای اپلیکیشن آموزشی"],
        )
        workspace = f"{self.site}/workspace/{contract}/"
        payload = zip_bytes()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            alex, sara, reza = (self.browser_login(browser, who) for who in ("alex", "sara", "reza"))

            alex.goto(workspace)
            alex.set_input_files(
                "input[name=file]", files=[{"name": "api.zip", "mimeType": "application/zip", "buffer": payload}]
            )
            mark = self.access_marks()
            alex.click("[data-testid=upload]")
            alex.locator("[data-testid=deliverable]").first.wait_for(timeout=20000)
            upload_by = self.served_since(mark, f"POST /workspace/{contract}/upload/")
            self.check("the freelancer's upload went through one machine", len(upload_by) == 1, str(upload_by))
            alex.click("[data-testid=operations]")
            alex.click("[data-testid=op-done]")
            alex.wait_for_load_state()

            sara.goto(workspace)
            sara.click("[data-testid=operations]")
            sara.click("[data-testid=op-fund]")
            sara.wait_for_load_state()
            sara.locator("[data-testid=download]").first.wait_for(timeout=10000)
            served, matches = set(), True
            for _ in range(6):
                mark = self.access_marks()
                with sara.expect_download() as download:
                    sara.locator("[data-testid=download]").first.click()
                matches &= Path(download.value.path()).read_bytes() == payload
                served |= set(self.served_since(mark, f"GET /workspace/{contract}/files/"))
                if served - set(upload_by):
                    break
            self.check(
                "the employer downloads the same bytes through the other machine",
                matches and bool(served - set(upload_by)),
                f"upload by {upload_by}, downloads by {served}",
            )

            # Chat: Sara writes to Reza on the rug shop project; Reza's open page shows it at once, pushed by the
            # events server (whichever machine took the message), without asking any machine.
            conversation = self.sql_one(
                "SELECT c.id FROM proposals_conversation c JOIN projects_project p ON p.id = c.project_id "
                "JOIN accounts_user u ON u.id = c.freelancer_id WHERE u.username = 'reza' AND p.title LIKE %s",
                ["طراحی و پیاده‌سازی فروشگاه%"],
            )
            chat = f"{self.site}/messages/{conversation}/"
            with reza.expect_response(re.compile(r"/events/$")):
                reza.goto(chat)
            sara.goto(chat)
            words = f"Across machines {uuid.uuid4().hex[:6]}"
            mark = self.access_marks()
            sara.fill("textarea[name=body]", words)
            sara.click("[data-testid=send-message]")
            reza.get_by_text(words).wait_for(timeout=15000)
            sent_by = self.served_since(mark, f"POST /messages/{conversation}/")
            polled_by = self.served_since(mark, f"GET /messages/{conversation}/poll")
            self.check(
                "a chat message sent on one machine appears on the other's open page live, without a poll",
                bool(sent_by) and not polled_by,
                f"sent by {sent_by}, polled by {set(polled_by)}",
            )
            browser.close()

    def browser_login(self, browser, username: str):
        context = browser.new_context(ignore_https_errors=True, locale="en-US", viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": "django_language", "value": "en", "url": self.site}])
        page = context.new_page()
        page.goto(f"{self.site}/accounts/login/")
        page.fill("input[name=login]", f"{username}@example.com")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_load_state()
        self.require(f"{username} logs in through nginx in Chromium", "/accounts/login/" not in page.url, page.url)
        return page

    def access_marks(self) -> dict:
        return {name: len(self.log_text(name)) for name in ("web1", "web2")}

    def served_since(self, marks: dict, request: str) -> list[str]:
        """Which machines served `request` (method and path prefix) since `marks`, from gunicorn's access logs."""
        method, path = request.split(" ", 1)
        served = []
        time.sleep(0.5)
        for name, offset in marks.items():
            for line in self.log_text(name)[offset:].splitlines():
                if (
                    '"logger": "gunicorn.access"' in line
                    and f'"method": "{method}"' in line
                    and f'"path": "{path}' in line
                ):
                    served.append(name)
        return served

    # --- stage 6: faults ---------------------------------------------------------------------------------------

    def faults(self) -> None:
        probe = Client(port=self.web_ports["web2"], tls=False, host="10.0.0.2")
        self.stop("redis")
        started = time.monotonic()
        health = probe.get("/health/")
        elapsed = time.monotonic() - started
        services = json.loads(health.text).get("services", {})
        self.check(
            f"Redis down: /health/ answers 503 in {elapsed:.1f} s naming cache and broker",
            health.status == 503
            and services["cache"]["status"] == "error"
            and services["broker"]["status"] == "error"
            and services["database"]["status"] == "ok"
            and elapsed < 5,
            health.text[:400],
        )
        page = Client(port=self.https_port, tls=True, cafile=self.cert)
        started = time.monotonic()
        answer = page.get("/projects/")
        self.check(f"Redis down: pages still answer ({time.monotonic() - started:.1f} s)", answer.status == 200)
        started = time.monotonic()
        stream = self.live_reader.stream("/events/")
        self.check(f"Redis down: the live stream answers 503 ({time.monotonic() - started:.1f} s), so pages poll",
                   stream.status == 503 and time.monotonic() - started < 5, str(stream.status))  # fmt: skip
        stream.close()
        self.start_redis()
        stream = self.live_reader.stream("/events/")
        self.check("Redis back: the live stream opens again", stream.status == 200, str(stream.status))
        stream.close()
        # Redis came back empty, without beat's lock: the beat that held it stops rather than risk a second
        # sender, and its supervisor (systemd's Restart=always) starts it again; a beat then sends again.
        beat_stopped = self.wait_for_process_exit("beat", 30)
        self.start("beat", self.procfile("beat", self.env), self.env)
        again = self.wait_for_log("beat", r"Sending due task", 90)
        self.check("Redis back: beat, restarted, sends the periodic tasks again", again is not None,
                   f"the old beat stopped: {beat_stopped}")  # fmt: skip

        self.s3.stop()
        health = probe.get("/health/")
        services = json.loads(health.text).get("services", {})
        self.check(
            "object store down: /health/ answers 503 naming storage",
            health.status == 503 and services["storage"]["status"] == "error",
            health.text[:400],
        )
        self.check(
            "no secret in the health answer", "hamkar-test-secret" not in health.text and "SECRET" not in health.text
        )

    def stop_all(self) -> None:
        clean = {}
        for name in ("nginx", "events", "web1", "web2", "worker1", "worker2", "beat"):
            if name in self.processes:
                clean[name] = self.stop(name)
        self.check("every process stops cleanly on SIGTERM", all(code == 0 for code in clean.values()), str(clean))
        self.stop("redis")
        self.smtp.stop()
        self.s3.stop()

    def sql_row(self, query: str, params: list) -> tuple:
        import psycopg

        with psycopg.connect(self.database_url) as connection:
            row = connection.execute(query, params).fetchone()
        if row is None:
            raise SystemExit(f"rehearsal: nothing found for {query} {params}")
        return row

    def sql_one(self, query: str, params: list):
        return self.sql_row(query, params)[0]

    def build_only(self) -> int:
        self.build_venv()  # a failing check stops the script (SystemExit)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        print(f"production rehearsal's virtualenv: {len(self.passed)} checks ok", flush=True)
        return 0

    def run(self) -> int:
        try:
            self.build_venv()
            env = self.env = self.start_services()
            self.prepare(env)
            self.smoke(env)
            self.two_machines(env)
            self.faults()
        finally:
            try:
                self.stop_all()
            except Exception as error:  # noqa: BLE001 — report and go on stopping
                self.check("stopping", False, repr(error))
            for name in list(self.processes):
                self.stop(name, sig=signal.SIGKILL)
        print(f"production rehearsal: {len(self.passed)} checks ok, {len(self.failed)} failing; logs in {self.run_dir}")
        if self.failed:
            for name in ("web1", "web2", "events", "worker1", "worker2", "beat"):
                print(f"--- last lines of {name} ---\n" + "\n".join(self.log_text(name).splitlines()[-15:]))
        elif not self.keep:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        return 1 if self.failed else 0


# --- a small HTTP client: cookies, CSRF, a chosen source address, streaming uploads ---------------------------


class Answer:
    def __init__(self, status: int, headers: dict, text: str):
        self.status, self.headers, self.text = status, headers, text


class Client:
    def __init__(
        self,
        *,
        port: int,
        tls: bool,
        cafile: Path | None = None,
        source: str | None = None,
        host: str | None = None,
        headers: dict | None = None,
    ):
        self.port, self.tls, self.source = port, tls, source
        self.host = host or ("localhost" if tls else "127.0.0.1")
        self.extra = headers or {}
        self.cookies: dict[str, str] = {"django_language": "en"}
        self.context = ssl.create_default_context(cafile=str(cafile)) if tls else None

    def _connection(self):
        source = (self.source, 0) if self.source else None
        if self.tls:
            return http.client.HTTPSConnection(
                "localhost", self.port, context=self.context, timeout=120, source_address=source
            )
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120, source_address=source)

    def _headers(self, extra: dict | None = None) -> dict:
        origin = f"https://localhost:{self.port}" if self.tls else "https://127.0.0.1"
        headers = {
            "Host": self.host if not self.tls else f"localhost:{self.port}",
            "Referer": origin + "/",
            "Origin": origin,
            "Accept-Language": "en",
            **self.extra,
            **(extra or {}),
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _answer(self, connection) -> Answer:
        response = connection.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, rest = value.split("=", 1)
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        answer = Answer(response.status, dict(response.getheaders()), response.read().decode(errors="replace"))
        connection.close()
        return answer

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Answer:
        connection = self._connection()
        connection.request(method, path, body=body, headers=self._headers(headers))
        return self._answer(connection)

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def stream(self, path: str) -> http.client.HTTPResponse:
        """A GET left open, as EventSource makes it: the caller reads the response as it comes."""
        connection = self._connection()
        connection.timeout = 30
        connection.request("GET", path, headers=self._headers({"Accept": "text/event-stream"}))
        return connection.getresponse()

    def csrf(self, path: str) -> str:
        page = self.get(path)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if not found:
            raise RuntimeError(f"no CSRF token on {path}: {page.status}")
        return found.group(1)

    def post(self, path: str, fields: dict, page: str | None = None) -> Answer:
        token = self.csrf(page or path)
        body = urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def signup(self, email: str) -> Answer:
        return self.post(
            "/accounts/signup/",
            {
                "email": email,
                "username": email.split("@")[0].replace("-", "_"),
                "password1": "Sturdy-pass-2026",
                "password2": "Sturdy-pass-2026",
            },
        )

    def login(self, email: str, password: str, raw: bool = False):
        answer = self.post("/accounts/login/", {"login": email, "password": password})
        return answer if raw else (answer.status == 302 and "sessionid" in self.cookies)

    def upload(self, path: str, file: Path, page: str) -> Answer:
        """A multipart POST whose file part is streamed from disk, as a browser sends it."""
        token = self.csrf(page)
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file.name}"\r\n'
            f"Content-Type: application/zip\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        connection = self._connection()
        connection.putrequest("POST", path, skip_host=True)
        for name, value in self._headers({"Content-Type": f"multipart/form-data; boundary={boundary}"}).items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(head) + file.stat().st_size + len(tail)))
        connection.endheaders()
        connection.send(head)
        with file.open("rb") as source:
            while chunk := source.read(1024 * 1024):
                connection.send(chunk)
        connection.send(tail)
        return self._answer(connection)


def read_event(stream: http.client.HTTPResponse, timeout: float) -> tuple[str, str] | None:
    """The next server-sent event's name and data (heartbeats skipped), or None if none came in time."""
    deadline = time.monotonic() + timeout
    name, data = "message", ""
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            return None
        text = line.decode().rstrip("\n")
        if text.startswith("event: "):
            name = text[7:]
        elif text.startswith("data: "):
            data = text[6:]
        elif text == "" and data:
            return name, data
    return None


def mail_text(message) -> str:
    return " ".join(
        part.get_payload(decode=True).decode(errors="replace") for part in message.walk() if not part.is_multipart()
    )


def gunicorn_workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def vm_hwm(pid: int) -> int:
    """A process's peak resident memory so far, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def zip_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("api/README.md", "# Payment API\n")
        archive.writestr("api/server.py", "print('paid')\n" + os.urandom(4000).hex())
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, nginx files) even when green")
    parser.add_argument("--venv-only", action="store_true", help="build and check the virtualenv (step 1), then stop")
    args = parser.parse_args()
    rehearsal = Rehearsal(keep=args.keep)
    return rehearsal.build_only() if args.venv_only else rehearsal.run()


if __name__ == "__main__":
    sys.exit(main())
