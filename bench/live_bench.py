"""A thousand idle open chats, and what they cost while nobody says anything; then how fast a message arrives.

    .venv/bin/python bench/live_bench.py [--streams 1000] [--people 250] [--idle 30] [--heartbeat 10] [--workers 2]

Needs PostgreSQL (127.0.0.1:5432, user postgres; it makes and drops the database `hamkar_live_bench`) and Redis
(127.0.0.1:6379, database 14). It:

1. migrates a fresh database, loads the demo data (seed_demo) and adds `--people` accounts, each signed in (a real
   session in the cached_db store, as a browser holds);
2. starts the live stream's ASGI server exactly as Procfile.production's "events" line does (uvicorn, `--workers`
   processes, production settings);
3. opens `--streams` streams (each person's open tabs; two of them are the parties of a demo conversation) and
   waits for each one's first event;
4. leaves them idle for `--idle` seconds (plus the 11 s PostgreSQL needs to report a connection's statistics) and
   prints what the idle streams cost: transactions in the database (pg_stat_database, read from another database),
   connections held to it, CPU seconds and memory of the server's processes, Redis connections and channels, and
   the heartbeats received; beside it, what polling every CHAT_POLL_SECONDS would have asked of the web machines;
5. posts 50 messages in the demo conversation (the chat's own service, in this process) and prints how long each
   took to reach both parties' streams (median and p99).
"""

import argparse
import asyncio
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.load_bench import SERVER, server_execute, site_env  # noqa: E402
from marketplace.servers import free_port, procfile_command, wait_for_port  # noqa: E402

DB = "hamkar_live_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--people", type=int, default=250, help="accounts the streams belong to (tabs each)")
    parser.add_argument("--idle", type=float, default=30, help="seconds of silence measured")
    parser.add_argument("--heartbeat", type=float, default=10, help="LIVE_HEARTBEAT_SECONDS (production: 25)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    return parser.parse_args()


def prepare(people: int):
    """The demo data and `people` more accounts; returns the demo conversation and every person's session key."""
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.db import connections

    from accounts.models import User
    from proposals.models import Conversation

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 — closed with the process
    password = User().password  # unusable is enough: sessions are made here, nobody types a password
    User.objects.bulk_create(
        User(username=f"idle{n}", email=f"idle{n}@example.com", password=password) for n in range(people)
    )
    conversation = Conversation.objects.select_related("project__owner__profile", "freelancer__profile").first()
    store = import_module(settings.SESSION_ENGINE).SessionStore

    def session(user) -> str:
        s = store()
        s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(user.pk), settings.AUTHENTICATION_BACKENDS[0]
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.save()
        return s.session_key

    parties = [session(conversation.project.owner), session(conversation.freelancer)]
    others = [session(user) for user in User.objects.filter(username__startswith="idle")]
    connections.close_all()
    return conversation, parties, others


class Stream:
    def __init__(self, index: int):
        self.index = index
        self.status = 0
        self.heartbeats = 0
        self.events: list[tuple[float, str, str]] = []
        self.first = asyncio.Event()
        self.arrived = asyncio.Event()


async def open_stream(port: int, cookie: str, stream: Stream) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /events/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        f"Cookie: sessionid={cookie}\r\n\r\n".encode()
    )
    await writer.drain()
    status = await reader.readline()
    stream.status = int(status.split()[1])
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    name = "message"
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            text = line.decode().strip()
            if text.isalnum() and len(text) <= 8:  # a chunk's size line (chunked transfer)
                continue
            if text.startswith(": "):
                stream.heartbeats += 1
            elif text.startswith("event: "):
                name = text[7:]
            elif text.startswith("data: "):
                stream.events.append((time.monotonic(), name, text[6:]))
                stream.first.set()
                stream.arrived.set()
    finally:
        writer.close()


def cpu_and_memory(pids: list[int]) -> tuple[float, float]:
    """CPU seconds (user + system) and resident memory (MB) of these processes."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu = memory = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu += (int(fields[11]) + int(fields[12])) / tick
        memory += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return cpu, memory


def server_pids(master: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [master, *map(int, children)]


def database_activity() -> tuple[int, int]:
    """Transactions committed or rolled back in the bench database, and connections open to it (read from the
    `postgres` database, so this reading is not counted)."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback, numbackends FROM pg_stat_database WHERE datname = %s", [DB]
        ).fetchone()
    return int(row[0]), int(row[1])


async def run(args, port: int, server: subprocess.Popen, conversation, parties: list[str], others: list[str]):
    import redis

    from marketplace import live
    from proposals.services import message_send

    cookies = parties + [others[n % len(others)] for n in range(max(0, args.streams - len(parties)))]
    streams = [Stream(n) for n in range(len(cookies))]
    _, memory_empty = cpu_and_memory(server_pids(server.pid))
    started = time.monotonic()
    tasks = []
    for batch in range(0, len(cookies), 50):
        for n in range(batch, min(batch + 50, len(cookies))):
            tasks.append(asyncio.create_task(open_stream(port, cookies[n], streams[n])))
        await asyncio.gather(*(streams[n].first.wait() for n in range(batch, min(batch + 50, len(cookies)))))
    opened = time.monotonic() - started
    refused = [s for s in streams if s.status != 200]
    print(f"opened {len(streams)} streams for {len(set(cookies))} people in {opened:.1f} s; refused: {len(refused)}")

    await asyncio.sleep(12)  # the connections that read the sessions have reported their statistics
    pids = server_pids(server.pid)
    xact_before, _ = database_activity()
    cpu_before, _ = cpu_and_memory(pids)
    heartbeats_before = sum(s.heartbeats for s in streams)
    idle_started = time.monotonic()
    await asyncio.sleep(args.idle + 11)
    idle = time.monotonic() - idle_started
    xact_after, backends = database_activity()
    cpu_after, memory = cpu_and_memory(pids)
    heartbeats = sum(s.heartbeats for s in streams) - heartbeats_before
    r = redis.Redis.from_url(REDIS_URL)
    pubsub_clients = sum(1 for client in r.client_list() if int(client.get("sub", 0)) > 0)
    channels = len(r.pubsub_channels(live.channel("*")))  # this database's channels only
    from django.conf import settings

    polls = len(streams) / settings.CHAT_POLL_SECONDS
    print(f"\nidle for {idle:.0f} s with {len(streams)} open streams ({args.workers} uvicorn workers):")
    print(f"  database transactions in the bench database: {xact_after - xact_before}")
    print(f"  database connections held by the server: {backends}")
    cpu = cpu_after - cpu_before
    print(f"  server CPU: {cpu:.2f} s in {idle:.0f} s ({cpu / idle:.1%} of one core)")
    grown = memory - memory_empty
    print(
        f"  server memory (RSS, all processes): {memory:.0f} MB, {grown:.0f} MB more than with no stream open "
        f"({grown * 1024 / len(streams):.0f} KB a stream)"
    )
    print(f"  Redis: {pubsub_clients} subscribed connections (on the whole server), {channels} channels")
    print(f"  heartbeats received: {heartbeats} (every {args.heartbeat:g} s a stream)")
    print(f"  polling instead: {polls:.0f} requests/s to the web machines ({polls * idle:.0f} in that time)")

    # Delivery: 50 messages, alternately from each party; the time from the call to each party's stream.
    employer, freelancer = streams[0], streams[1]
    latencies = []
    for n in range(50):
        sender = conversation.project.owner if n % 2 == 0 else conversation.freelancer
        for stream in (employer, freelancer):
            stream.arrived.clear()
            stream.events.clear()
        sent = time.monotonic()
        await asyncio.to_thread(message_send, conversation=conversation, sender=sender, body=f"bench message {n}")
        for stream in (employer, freelancer):
            await asyncio.wait_for(_message_event(stream), timeout=10)
            latencies.append((next(t for t, name, _ in stream.events if name == "message") - sent) * 1000)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    median = statistics.median(latencies)
    print(f"\n50 messages, each to both parties' streams (among {len(streams)} open), from the send to the event's "
          f"arrival: median {median:.1f} ms, p99 {p99:.1f} ms")  # fmt: skip
    for task in tasks:
        task.cancel()


async def _message_event(stream: Stream) -> None:
    while not any(name == "message" for _, name, _ in stream.events):
        stream.arrived.clear()
        await stream.arrived.wait()


def main() -> None:
    args = parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.streams * 2 + 256)), hard))
    run_dir = Path(tempfile.mkdtemp(prefix="hamkar-live-bench-"))
    (run_dir / "static").mkdir()
    env = {
        **site_env(run_dir, database=DB, redis_url=REDIS_URL),
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "LIVE_HEARTBEAT_SECONDS": str(args.heartbeat),
        "EVENTS_HOST": "127.0.0.1",
        "EVENTS_WORKERS": str(args.workers),
    }
    os.environ.update(env)
    server_execute(f"DROP DATABASE IF EXISTS {DB}", f"CREATE DATABASE {DB}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    conversation, parties, others = prepare(args.people)
    port = free_port()
    command = procfile_command("events", {**os.environ, "EVENTS_PORT": str(port)}, BASE_DIR / ".venv" / "bin")
    server = subprocess.Popen(command, cwd=BASE_DIR, env={**os.environ}, start_new_session=True)
    try:
        wait_for_port(port, process=server)
        time.sleep(1)  # every worker is listening
        asyncio.run(run(args, port, server, conversation, parties, others))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        server_execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
