"""Benchmark: the REST API's throughput and latency against a peer and a ceiling.

For two URLs — the board filtered and sorted, `GET /v1/airdrops?status=likely&sort=-potential`,
and one profile, `GET /v1/projects/starknet` — it measures requests/s and p50/p99 latency of:
- dropscope: `dropscope serve --workers 2` on a fresh SQLite database;
- the peer, Datasette, serving the same board (from `dropscope airdrops --all --format json`)
  as a SQLite table, with the equivalent URLs; once as `datasette serve` (which always runs
  one process) and once as its ASGI app under uvicorn with 2 workers, like dropscope;
- the ceiling, a bare ASGI callable (bench/bare_asgi.py) answering dropscope's own bytes
  under uvicorn with 2 workers, uvloop and httptools.

Servers run one at a time on 127.0.0.1; the load comes from a separate process (`wrk`, or
bench/loadgen.py when wrk is missing). Every server runs in its own process group and is
killed at the end, on error or on Ctrl-C. Targets: dropscope ÷ Datasette ≥ 2.0 and
dropscope ÷ bare ASGI ≥ 0.5 in requests/s, per URL.

Run: `make bench` (or `.venv/bin/python bench/api.py`; `--help` for the knobs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
KEYS = 500  # keys for the many-keys run
WORKERS = 2
UVICORN_FAST = ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]

# url key -> (dropscope and bare ASGI path, Datasette path)
URLS: dict[str, tuple[str, str]] = {
    "board": (
        "/v1/airdrops?status=likely&sort=-potential",
        "/bench/airdrops.json?status=likely&_sort_desc=potential&_shape=array",
    ),
    "project": ("/v1/projects/starknet", "/bench/airdrops/starknet.json"),
}

DROPSCOPE, DATASETTE, DATASETTE_2W, BARE = "dropscope", "datasette", "datasette-2w", "bare-asgi"
DROPSCOPE_KEYS, DROPSCOPE_NOAUTH = "ds-many-keys", "ds-no-auth"
DROPSCOPE_NOAUTH_KEYS = "ds-no-auth-k"


@dataclass
class Result:
    target: str
    key: str
    path: str
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    resp_bytes: int | None = None
    errors: int = 0
    requests: int = 0
    other_cpu: float | None = None  # share of all CPUs used by processes outside the bench
    cpu_us: float | None = None  # CPU µs per request: server processes + redis-server
    round: int = 0  # which round of `--rounds` measured it
    note: str = ""

    @property
    def valid(self) -> bool:
        """Measured, with under 1% errors or non-2xx answers: usable in a ratio."""
        return self.rps is not None and self.errors <= 0.01 * max(self.requests, 1)


@dataclass
class Server:
    """A server process in its own session (process group), logging to a file."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    log: Path
    port: int
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                self.cmd,
                env=self.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _session(self) -> Iterator[tuple[Path, list[str]]]:
        """(/proc/PID, stat fields after the command name) of each process in the session."""
        if self.proc is None:
            return
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[3]) == self.proc.pid:
                    yield stat.parent, fields

    def cpu_ticks(self) -> int:
        """CPU time (clock ticks) used so far by the server's live processes."""
        return sum(int(f[11]) + int(f[12]) for _, f in self._session())

    def processes(self) -> str:
        """The live processes of this server's session: "1 process" or "N workers + ..."."""
        cmdlines = []
        for proc_dir, _ in self._session():
            with contextlib.suppress(OSError):
                cmdlines.append((proc_dir / "cmdline").read_bytes())
        workers = sum(b"multiprocessing.spawn" in c for c in cmdlines)
        if not workers:
            return f"{len(cmdlines)} process" + ("es" if len(cmdlines) != 1 else "")
        return f"{workers} worker processes + supervisor ({len(cmdlines)} in all)"

    def stop(self) -> None:
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 8.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # the group may outlive its leader (workers): make sure nothing is left
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return "\n".join("      | " + line for line in text[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def get(
    url: str, timeout: float = 5.0, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers or {}), timeout=timeout
        ) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def redis_answers(host: str, port: int) -> bool:
    """Whether a Redis server answers PING on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def wait_ready(server: Server, path: str, timeout: float) -> str | None:
    """None once `path` answers 200; otherwise why not."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        assert server.proc is not None
        if (rc := server.proc.poll()) is not None:
            return f"exited with code {rc} before {path} answered 200"
        try:
            status, _, _ = get(server.base + path, timeout=2.0)
            if status == 200:
                return None
            last = f"{path} answered {status}"
        except OSError as e:
            last = f"{path}: {e}"
        time.sleep(0.2)
    return f"not ready after {timeout:.0f} s ({last})"


@dataclass
class Load:
    threads: int
    connections: int
    warmup: int
    duration: int
    use_wrk: bool
    why_httpx: str = "wrk not found"
    headers: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        if self.use_wrk:
            return (
                f"wrk -t{self.threads} -c{self.connections} -d{self.duration}s "
                f"(after a {self.warmup} s warm-up), separate process"
            )
        return (
            f"bench/loadgen.py (async httpx, 1 process, {self.connections} connections, "
            f"{self.duration} s after a {self.warmup} s warm-up; {self.why_httpx}) — "
            "a Python client caps what fast servers can show"
        )

    def run(self, url: str, seconds: int, script: Path | None = None) -> dict[str, Any]:
        if self.use_wrk:
            cmd = [
                "wrk",
                f"-t{self.threads}",
                f"-c{self.connections}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "-s",
                str(script or BENCH / "wrk_report.lua"),
                *(a for k, v in self.headers.items() for a in ("-H", f"{k}: {v}")),
                url,
            ]
        else:
            cmd = [
                sys.executable,
                str(BENCH / "loadgen.py"),
                url,
                "--connections",
                str(self.connections),
                "--duration",
                str(seconds),
                *(a for k, v in self.headers.items() for a in ("--header", f"{k}: {v}")),
            ]
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=seconds + 30, check=False
        ).stdout
        for line in out.splitlines():
            if line.startswith("WRKJSON "):
                return dict(json.loads(line.removeprefix("WRKJSON ")))
        raise RuntimeError(f"load generator gave no figures: {' '.join(cmd)}\n{out[-500:]}")

    def measure(self, result: Result, url: str, server: Server, script: Path | None = None) -> None:
        if self.warmup:
            self.run(url, self.warmup, script)
        before = (busy_ticks(), server.cpu_ticks(), children_ticks(), redis_ticks())
        fig = self.run(url, self.duration, script)
        after = (busy_ticks(), server.cpu_ticks(), children_ticks(), redis_ticks())
        busy, total = (after[0][i] - before[0][i] for i in (0, 1))
        served = after[1] - before[1] + after[3] - before[3]  # server and Redis
        ours = served + after[2] - before[2]  # and the load generator
        result.other_cpu = max(0.0, (busy - ours) / total) if total else None
        if fig["requests"]:
            result.cpu_us = served / CLK_TCK * 1e6 / fig["requests"]
        result.rps = fig["requests"] / (fig["duration_us"] / 1e6)
        result.p50_ms = fig["p50_us"] / 1e3
        result.p99_ms = fig["p99_us"] / 1e3
        result.errors = sum(fig["errors"].values())
        result.requests = fig["requests"]


CLK_TCK = os.sysconf("SC_CLK_TCK")


def busy_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


def redis_ticks() -> int:
    """CPU time (clock ticks) used so far by redis-server processes on this machine (the
    rate-limit counters' share of a request's cost; 0 when none runs)."""
    ticks = 0
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if comm.read_text().strip() == "redis-server":
                fields = (comm.parent / "stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
    return ticks


def children_ticks() -> int:
    """CPU time (clock ticks) of this process's finished children (the load generator)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round((ru.ru_utime + ru.ru_stime) * CLK_TCK)


def uvicorn_cmd(target: str, workers: int, *extra: str) -> list[str]:
    """uvicorn serving `target` from bench/ on a free port ({port}), tuned like the others."""
    return [
        str(BIN / "uvicorn"),
        target,
        *extra,
        "--app-dir",
        str(BENCH),
        "--host",
        HOST,
        "--port",
        "{port}",
        "--workers",
        str(workers),
        *UVICORN_FAST,
        "--log-level",
        "warning",
    ]


def make_keys(env: dict[str, str], n: int) -> list[str]:
    """`n` read keys on the uncapped bench plan, made in-process with the server's settings."""
    code = (
        "import json, sys\n"
        "from datetime import UTC, datetime\n"
        "from dropscope.config import Settings\n"
        "from dropscope.services.database import Database\n"
        "from dropscope.services.keys import Actor, KeySpec, keys_service\n"
        "s = Settings(); db = Database(s.database_url); svc = keys_service(s, db)\n"
        "now = datetime.now(UTC)\n"
        f"out = [svc.create(Actor.local(), KeySpec(name=f'bench-{{i}}', plan='bench'), now)"
        f".secret for i in range({n})]\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return list(json.loads(done.stdout))


def dropscope_cli(env: dict[str, str], *args: str) -> Any:
    out = subprocess.run(
        [str(BIN / "dropscope"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)


def build_datasette_db(projects: list[dict[str, Any]], path: Path) -> None:
    """The board as one table, `airdrops`, keyed by slug, with an index on status."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE airdrops (
            slug TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL,
            status_rule TEXT, status_reason TEXT, status_headline TEXT, sector TEXT,
            tech REAL, fundamentals REAL, fundamentals_method TEXT, potential REAL,
            raised_usd INTEGER, valuation_usd INTEGER, chains TEXT, narratives TEXT,
            investors TEXT, evidence_ids TEXT, potential_breakdown TEXT,
            listed INTEGER, inclusion_reason TEXT
        );
        CREATE INDEX airdrops_status ON airdrops (status);
        """
    )
    conn.executemany(
        "INSERT INTO airdrops VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                p["slug"],
                p["name"],
                p["status"],
                p.get("status_rule"),
                p.get("status_reason"),
                p.get("status_headline"),
                p.get("sector"),
                p["scores"].get("tech"),
                p["scores"].get("fundamentals"),
                p["scores"].get("fundamentals_method"),
                p["scores"].get("potential"),
                p.get("raised_usd"),
                p.get("valuation_usd"),
                json.dumps(p.get("chains", [])),
                json.dumps(p.get("narratives", [])),
                json.dumps(p.get("investors", [])),
                json.dumps(p.get("evidence_ids", [])),
                json.dumps(p.get("potential_breakdown", [])),
                int(bool(p.get("listed"))),
                p.get("inclusion_reason"),
            )
            for p in projects
        ],
    )
    conn.commit()
    conn.close()


class Run:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.deadline = time.monotonic() + args.budget
        self.load = Load(
            args.threads,
            args.connections,
            args.warmup,
            args.duration,
            shutil.which("wrk") is not None,
        )
        self.env = {
            **os.environ,
            "DROPSCOPE_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            # a pepper of the run's own, and a plan the limiter does not cap, so that the
            # load measures the API with authentication and rate limiting, not 429 answers
            "DROPSCOPE_KEY_PEPPER": secrets.token_urlsafe(32),
            "DROPSCOPE_PLANS": json.dumps(
                [
                    {"name": "free", "per_minute": 60, "per_month": 10_000},
                    {"name": "bench", "per_minute": 10**9, "per_month": 10**12},
                ]
            ),
        }
        self.results: list[Result] = []
        self.stacks: dict[str, str] = {}
        self.servers: list[Server] = []
        self.notes: list[str] = []
        self.redis_prefix: str | None = None
        self.keys_script: Path | None = None  # the many-keys wrk script, once written
        self.round = 0

    def server(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> Server:
        port = free_port()
        cmd = [c.replace("{port}", str(port)) for c in cmd]
        s = Server(name, cmd, env or self.env, self.tmp / f"{name}.log", port)
        self.servers.append(s)
        s.start()
        return s

    def stop_all(self) -> None:
        for s in self.servers:
            s.stop()
        if self.redis_prefix:  # the keys our dropscope wrote, if any
            with contextlib.suppress(Exception):
                import redis

                client = redis.Redis(host=HOST, port=6379, db=0, socket_timeout=2)
                for key in client.scan_iter(match=f"{self.redis_prefix}:*"):
                    client.delete(key)
                client.close()

    def time_left(self) -> bool:
        need = self.load.warmup + self.load.duration + 2
        return time.monotonic() + need <= self.deadline

    def bench_target(
        self, name: str, server: Server | None, paths: dict[str, str], why_not: str | None
    ) -> dict[str, bytes]:
        """Probe then load each URL; returns the 200 bodies with their content types."""
        bodies: dict[str, bytes] = {}
        for key, path in paths.items():
            r = Result(name, key, path, round=self.round)
            self.results.append(r)
            if why_not or server is None:
                r.note = why_not or "not started"
                continue
            status, headers, body = get(server.base + path, headers=self.load.headers)
            r.resp_bytes = len(body)
            if status != 200:
                r.note = f"HTTP {status} ({body[:80].decode(errors='replace')}) — not measured"
                if status == 401 and name == DROPSCOPE:
                    r.note += (
                        "\n/v1 needs an API key: pass --api-key dsk_… (or set "
                        "DROPSCOPE_BENCH_API_KEY), of a plan whose per-minute limit admits "
                        "the load, else the run measures 429 answers"
                    )
                continue
            bodies[key] = body
            bodies[key + ":type"] = headers.get("content-type", "application/json").encode()
            if not self.time_left():
                r.note = "skipped: over the time budget"
                continue
            self.load.measure(r, server.base + path, server)
            if r.errors:
                r.note = (
                    f"{r.errors} of {r.requests} answers were errors or not 2xx/3xx (429: rate "
                    "limited?)" + (" — left out of the ratios" if not r.valid else "")
                )
        return bodies

    def many_keys(self, server: Server, paths: dict[str, str]) -> None:
        """The same URLs, each request with one of KEYS keys (a wrk script picks them)."""
        script = self.tmp / "wrk_keys.lua"
        if self.keys_script is None:  # the keys are made once, for every round
            self._write_keys_script(script)
        self.keys_script = script
        for key, path in paths.items():
            r = Result(DROPSCOPE_KEYS, key, path, round=self.round)
            self.results.append(r)
            if not self.time_left():
                r.note = "skipped: over the time budget"
                continue
            self.load.measure(r, server.base + path, server, script)
        self.stacks[DROPSCOPE_KEYS] = f"the same server, {KEYS} keys chosen at random per request"

    def _write_keys_script(self, script: Path) -> None:
        secrets_ = make_keys(self.env, KEYS)
        listed = ",".join(f'"{k}"' for k in secrets_)
        script.write_text(
            f"local keys = {{{listed}}}\n"
            "request = function()\n"
            "  local key = keys[math.random(#keys)]\n"
            "  return wrk.format(nil, nil, {Authorization = 'Bearer ' .. key})\n"
            "end\n" + (BENCH / "wrk_report.lua").read_text()
        )

    def without_auth(self, env: dict[str, str], workers: int, paths: dict[str, str]) -> None:
        """The same app, workers and data with keys and limits taken out (bench/noauth_app.py)."""
        s = self.server(
            DROPSCOPE_NOAUTH,
            uvicorn_cmd("noauth_app:create", workers, "--factory"),
            env,
        )
        why = wait_ready(s, "/readyz", timeout=30)
        self.stacks[DROPSCOPE_NOAUTH] = (
            f"dropscope's app without auth and rate limiting (bench/noauth_app.py), {s.processes()}"
        )
        self.bench_target(DROPSCOPE_NOAUTH, s, paths, why and f"no-auth app {why}")
        if not why and self.keys_script is not None:  # the load generator's work as for many keys
            for key, path in paths.items():
                r = Result(DROPSCOPE_NOAUTH_KEYS, key, path, round=self.round)
                self.results.append(r)
                if self.time_left():
                    self.load.measure(r, s.base + path, s, self.keys_script)
            self.stacks[DROPSCOPE_NOAUTH_KEYS] = (
                f"{DROPSCOPE_NOAUTH} loaded by the {KEYS}-keys wrk script (keys ignored), the "
                f"peer of {DROPSCOPE_KEYS}"
            )
        s.stop()

    def main(self) -> None:
        print(f"load: {self.load.describe()}")
        print(f"machine: {machine()}")
        t0 = time.monotonic()
        # The peer's data: dropscope's own board (the CLI seeds the database on first use).
        board = dropscope_cli(self.env, "airdrops", "--all", "--format", "json")
        projects: list[dict[str, Any]] = board["projects"]
        ds_db = self.tmp / "bench" / "bench.db"  # Datasette names the database "bench"
        ds_db.parent.mkdir()
        build_datasette_db(projects, ds_db)
        print(
            f"data: {len(projects)} projects seeded and copied to Datasette "
            f"in {time.monotonic() - t0:.1f} s"
        )
        if "Authorization" not in self.load.headers:
            created = dropscope_cli(
                self.env, "keys", "create", "--name", "bench", "--plan", "bench", "-f", "json"
            )
            self.load.headers["Authorization"] = f"Bearer {created['secret']}"
            print("auth: a read key on an uncapped 'bench' plan (authenticated, rate limited)")

        # (1) dropscope
        own_paths = {k: v[0] for k, v in URLS.items()}
        bodies: dict[str, bytes] = {}
        for round_ in range(self.args.rounds):  # rounds interleave the variants
            self.round = round_
            help_rc = subprocess.run(
                [str(BIN / "dropscope"), "serve", "--help"],
                env=self.env,
                capture_output=True,
                timeout=60,
                check=False,
            ).returncode
            if help_rc != 0:
                why = "`dropscope serve` does not exist yet — not measured"
                self.stacks[DROPSCOPE] = "dropscope serve: unavailable"
                bodies = self.bench_target(DROPSCOPE, None, own_paths, why)
            else:
                # Several workers share rate-limit counters in Redis (DROPSCOPE_REDIS_URL): use the
                # caller's, else a Redis on 127.0.0.1:6379 under a key prefix of our own, else
                # serve with one worker and say so.
                env, workers, counters = dict(self.env), WORKERS, "Redis at $DROPSCOPE_REDIS_URL"
                if not env.get("DROPSCOPE_REDIS_URL"):
                    if redis_answers(HOST, 6379):
                        self.redis_prefix = f"dropscope-bench-{os.getpid()}"
                        env["DROPSCOPE_REDIS_URL"] = f"redis://{HOST}:6379/0"
                        env["DROPSCOPE_REDIS_PREFIX"] = self.redis_prefix
                        counters = f"Redis at {HOST}:6379, keys {self.redis_prefix}:*"
                    else:
                        workers, counters = 1, "in-process (no Redis found, so ONE worker)"
                s = self.server(
                    DROPSCOPE,
                    [
                        str(BIN / "dropscope"),
                        "serve",
                        "--host",
                        HOST,
                        "--port",
                        "{port}",
                        "--workers",
                        str(workers),
                    ],
                    env,
                )
                why = wait_ready(s, "/readyz", timeout=30)
                if why:
                    why = f"dropscope serve {why}\n{s.log_tail()}"
                else:
                    _, headers, _ = get(s.base + "/readyz")
                    self.stacks[DROPSCOPE] = (
                        f"dropscope serve --workers {workers} (its FastAPI app under uvicorn; "
                        f"server header: {headers.get('server', 'none')}; {s.processes()}; "
                        f"rate-limit counters: {counters})"
                    )
                # /healthz: no route work, so the floor the framework and middleware cost
                floor = {**own_paths, "healthz": "/healthz"} if self.args.healthz else own_paths
                bodies = self.bench_target(DROPSCOPE, s, floor, why)
                if not why and self.args.auth_overhead and self.load.use_wrk:
                    self.many_keys(s, own_paths)
                s.stop()
                if not why and self.args.auth_overhead:
                    self.without_auth(env, workers, own_paths)
        self.stacks.setdefault(DROPSCOPE, "dropscope serve: did not start")

        if self.args.keys_only:
            self.report(time.monotonic() - t0)
            return
        # (2) Datasette, as its CLI runs it (one process) and under uvicorn with 2 workers
        ds_paths = {k: v[1] for k, v in URLS.items()}
        s = self.server(
            DATASETTE,
            [
                str(BIN / "datasette"),
                "serve",
                "-i",
                str(ds_db),
                "--host",
                HOST,
                "--port",
                "{port}",
                "--setting",
                "suggest_facets",
                "off",
            ],
        )
        why = wait_ready(s, "/-/versions.json", timeout=60)
        self.stacks[DATASETTE] = (
            "datasette serve -i (immutable), suggest_facets off; its CLI hard-codes "
            f"uvicorn.run(workers=1) with the access log on: {s.processes()}"
        )
        ds_bodies = self.bench_target(DATASETTE, s, ds_paths, why and f"Datasette {why}")
        s.stop()
        self.check_peer(ds_bodies, projects)

        if not self.args.no_datasette_workers:
            env = {**self.env, "BENCH_DATASETTE_DB": str(ds_db)}
            s = self.server(
                DATASETTE_2W,
                uvicorn_cmd("datasette_app:app", WORKERS),
                env,
            )
            why = wait_ready(s, "/-/versions.json", timeout=60)
            self.stacks[DATASETTE_2W] = (
                "Datasette's ASGI app (bench/datasette_app.py, same settings) under uvicorn "
                f"--workers {WORKERS} {' '.join(UVICORN_FAST)}: {s.processes()}"
            )
            self.bench_target(DATASETTE_2W, s, ds_paths, why and f"Datasette {why}")
            s.stop()

        # (3) the ceiling: a bare ASGI callable answering dropscope's bytes
        responses, source = self.bare_responses(bodies, board, projects)
        resp_file = self.tmp / "bare_responses.json"
        resp_file.write_text(json.dumps(responses))
        s = self.server(
            BARE,
            uvicorn_cmd("bare_asgi:app", WORKERS),
            {**self.env, "BENCH_BARE_RESPONSES": str(resp_file)},
        )
        why = wait_ready(s, own_paths["project"], timeout=60)
        self.stacks[BARE] = (
            f"bench/bare_asgi.py (pure ASGI, precomputed bytes {source}) under uvicorn "
            f"--workers {WORKERS} {' '.join(UVICORN_FAST)}: {s.processes()}"
        )
        self.bench_target(BARE, s, own_paths, why and f"bare ASGI {why}")
        s.stop()
        self.report(time.monotonic() - t0)

    def report_keys_cost(self) -> None:
        """Keys and limits' cost per round and its median, from requests/s and from CPU µs
        per request (server workers + redis-server; less disturbed by other load): one key
        against the no-auth app, many keys against the no-auth app under the same wrk script."""
        rounds = sorted({r.round for r in self.results})
        rps = {(r.round, r.target, r.key): r.rps for r in self.results if r.valid}
        cpu = {(r.round, r.target, r.key): r.cpu_us for r in self.results if r.valid}
        print()
        print(
            f"{'keys+limits cost':<18} {'round':>5} {'req/s 1 key':>12} {'many keys':>10} "
            f"{'CPU 1 key':>10} {'many keys':>10}"
        )
        medians: dict[str, list[float]] = {}
        for key in URLS:
            for n in rounds:
                row = []
                for table, flip in ((rps, False), (cpu, True)):
                    base = table.get((n, DROPSCOPE_NOAUTH, key))
                    base_k = table.get((n, DROPSCOPE_NOAUTH_KEYS, key), base)
                    one = table.get((n, DROPSCOPE, key))
                    many = table.get((n, DROPSCOPE_KEYS, key))
                    if flip:  # more CPU per request is the cost
                        row += [_cost(base, one), _cost(base_k, many)]
                    else:
                        row += [_cost(one, base), _cost(many, base_k)]
                for label, value in zip(("rps1", "rpsn", "cpu1", "cpun"), row, strict=True):
                    if value is not None:
                        medians.setdefault(f"{key}:{label}", []).append(value)
                cells = " ".join(
                    f"{'–' if v is None else format(v, '.0%'):>{w}}"
                    for v, w in zip(row, (12, 10, 10, 10), strict=True)
                )
                print(f"{key:<18} {n + 1:>5} {cells}")
        print(f"median over {len(rounds)} round(s), target ≤ 15%:")
        for key in URLS:
            values = [
                statistics.median(medians[f"{key}:{label}"])
                if medians.get(f"{key}:{label}")
                else None
                for label in ("rps1", "rpsn", "cpu1", "cpun")
            ]
            cells = " ".join(
                f"{'–' if v is None else format(v, '.0%'):>{w}}"
                for v, w in zip(values, (12, 10, 10, 10), strict=True)
            )
            worst = max((v for v in values[:2] if v is not None), default=None)
            met = verdict(None if worst is None else 0.15 / max(worst, 1e-9), 1.0)
            print(f"{key:<18} {'':>5} {cells}  {met}")

    def bare_responses(
        self, bodies: dict[str, bytes], board: dict[str, Any], projects: list[dict[str, Any]]
    ) -> tuple[dict[str, dict[str, str]], str]:
        if all(k in bodies for k in URLS):
            return {
                URLS[k][0]: {
                    "body": bodies[k].decode(),
                    "content_type": bodies[k + ":type"].decode(),
                }
                for k in URLS
            }, "fetched from dropscope"
        # dropscope is not answering: stand-ins of the same content from the CLI's JSON
        likely = sorted(
            (p for p in projects if p["status"] == "likely"),
            key=lambda p: -(p["scores"].get("potential") or 0),
        )
        board_body = {**board, "count": len(likely), "projects": likely}
        profile = dropscope_cli(self.env, "project", "starknet", "--format", "json")
        stand_in = {"board": board_body, "project": profile}
        return {
            URLS[k][0]: {"body": json.dumps(stand_in[k]), "content_type": "application/json"}
            for k in URLS
        }, "from the CLI's JSON, as dropscope did not answer"

    def check_peer(self, bodies: dict[str, bytes], projects: list[dict[str, Any]]) -> None:
        """The Datasette board answer must list the same projects, in the same order."""
        if "board" not in bodies:
            return
        got = [row["slug"] for row in json.loads(bodies["board"])]
        want = [
            p["slug"]
            for p in sorted(projects, key=lambda p: -(p["scores"].get("potential") or 0))
            if p["status"] == "likely"
        ]
        if got != want:
            self.notes.append(f"Datasette's board answer lists {got}, the board says {want}")

    def report(self, elapsed: float) -> None:
        def fmt(x: float | None, spec: str) -> str:
            return "–" if x is None else format(x, spec)

        print()
        print(
            f"{'target':<13} {'url':<68} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'bytes':>6} "
            f"{'other CPU':>9} {'CPU µs/req':>10}"
        )
        for r in self.results:
            print(
                f"{r.target:<13} {r.path:<68} {fmt(r.rps, '.0f'):>8} {fmt(r.p50_ms, '.2f'):>7} "
                f"{fmt(r.p99_ms, '.2f'):>7} {fmt(r.resp_bytes, 'd'):>6} "
                f"{fmt(r.other_cpu, '.0%'):>9} {fmt(r.cpu_us, '.0f'):>10}"
            )
            for line in r.note.splitlines():
                print(f"{'':<13} ! {line}")
        print()
        print("stacks:")
        for name, stack in self.stacks.items():
            print(f"  {name:<13} {stack}")
        print()
        by = {(r.target, r.key): r.rps for r in self.results if r.valid}
        print(
            f"{'url':<9} {'÷ datasette':>12} {'(≥ 2.0)':>8} {'÷ datasette-2w':>15} "
            f"{'÷ bare ASGI':>12} {'(≥ 0.5)':>8}"
        )
        for key in URLS:
            own = by.get((DROPSCOPE, key))

            def ratio(peer: str, own: float | None = own, key: str = key) -> float | None:
                other = by.get((peer, key))
                return own / other if own and other else None

            vs_ds, vs_ds2, vs_bare = ratio(DATASETTE), ratio(DATASETTE_2W), ratio(BARE)
            print(
                f"{key:<9} {fmt(vs_ds, '.2f'):>12} {verdict(vs_ds, 2.0):>8} "
                f"{fmt(vs_ds2, '.2f'):>15} {fmt(vs_bare, '.2f'):>12} {verdict(vs_bare, 0.5):>8}"
            )
        if any(r.target == DROPSCOPE_NOAUTH for r in self.results):
            self.report_keys_cost()
        if not any(r.rps for r in self.results if r.target == DROPSCOPE):
            print("\n! dropscope was not measured, so there are no ratios; the peers were.")
        noisy = [r for r in self.results if r.other_cpu is not None and r.other_cpu > 0.05]
        if noisy:
            self.notes.append(
                f"{len(noisy)} measurement(s) shared the CPUs with other processes (other CPU "
                "> 5%, of all CPUs): rerun on a quiet machine before quoting them"
            )
        for note in self.notes:
            print(f"! {note}")
        print(
            f"\nwhole run: {elapsed:.0f} s (1-min load at the end {os.getloadavg()[0]:.2f}); "
            "every server stopped."
        )


def _cost(own: float | None, base: float | None) -> float | None:
    """What keys and limits cost: 1 - own / base (throughput) or 1 - base / own (CPU)."""
    return 1 - own / base if own and base else None


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB, Python {sys.version.split()[0]}, "
        f"1-min load {os.getloadavg()[0]:.2f}"
    )


def verdict(x: float | None, target: float) -> str:
    if x is None:
        return "–"
    return "met" if x >= target else "NOT met"


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="REST API benchmark: dropscope, Datasette, bare ASGI")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    ap.add_argument("--warmup", type=int, default=2, help="warm-up seconds per URL (default 2)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per URL (default 10)")
    ap.add_argument(
        "--budget", type=int, default=240, help="skip measurements past this many seconds"
    )
    ap.add_argument(
        "--no-datasette-workers",
        action="store_true",
        help="skip Datasette under uvicorn --workers 2",
    )
    ap.add_argument(
        "--no-healthz",
        dest="healthz",
        action="store_false",
        help="skip dropscope's /healthz (the framework-and-middleware floor)",
    )
    ap.add_argument(
        "--api-key",
        default=os.environ.get("DROPSCOPE_BENCH_API_KEY"),
        help="dropscope API key, sent as `Authorization: Bearer KEY` to every target "
        "(default: $DROPSCOPE_BENCH_API_KEY)",
    )
    ap.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure dropscope, many keys and the no-auth app this many times, interleaved; "
        "the keys-and-limits cost is reported per round and as the median (default 1)",
    )
    ap.add_argument(
        "--keys-only",
        action="store_true",
        help="only what keys and limits cost: dropscope with one key, with many keys and "
        "without either (no Datasette, no bare ASGI)",
    )
    ap.add_argument("--httpx", action="store_true", help="use bench/loadgen.py even if wrk exists")
    ap.add_argument(
        "--no-auth-overhead",
        dest="auth_overhead",
        action="store_false",
        help=f"skip the runs with {KEYS} keys and without keys and limits",
    )
    return ap.parse_args()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    old = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    # Ctrl-C must stop the servers even when SIGINT was inherited as ignored (background jobs)
    old[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="dropscope-bench-api-") as tmp:
        run = Run(args, Path(tmp))
        if args.api_key:
            run.load.headers["Authorization"] = f"Bearer {args.api_key}"
        if args.httpx:
            run.load.use_wrk, run.load.why_httpx = False, "--httpx given"
        try:
            with signals_as_interrupts():
                run.main()
        except KeyboardInterrupt:
            print("\ninterrupted; stopping the servers", file=sys.stderr)
            return 130
        finally:
            run.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
