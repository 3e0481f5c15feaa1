#!/usr/bin/env python3
"""bench/soak_load.py: the load and the measurements of bench/soak.sh (Python stdlib only).

bench/soak.sh starts snmpsimd and `netpulse serve`, then runs this program, which:

  setup     logs in as the first administrator, imports the soak devices with one CSV import
            (name soak-NNNN, address 127.0.X.Y, SNMP v2c on the snmpsimd port), creates the ingest
            API key (role api_user) and the user of the login churn (role viewer);
  load      runs four loops on their own keep-alive connections, each bounded by a count and by the
            end time:
              ingest   every second, Telegraf-like InfluxDB line protocol, gzip, `Token <key>`, to
                       POST /api/v2/write?org=soak&bucket=soak (ns timestamps): each of
                       --ingest-hosts hosts reports every 5 s (cpu, mem, disk, 2 x net with
                       integers, a `service` line with booleans, the numeric `system` line); the
                       lines with string fields (system uptime_format alone, net_response with a
                       string beside numbers, as Telegraf sends them) go in a second request of
                       kind write_str, so that a server that refuses string fields still stores
                       the rest;
              reads    --read-rps requests a second, round robin: devices list, one device, its
                       interfaces, /api/v1/query_range (SNMP rate and an ingested series),
                       /api/v1/query, /api/v1/series, /api/v1/events, /api/v1/pollers, groups;
              writes   one step every 3 s of: create a group, create a device in it (ICMP only,
                       127.0.200.x, polled every 10 s), patch the device, read it, patch the group,
                       delete the device, delete the group;
              auth     every 5 s: login, me, refresh, me with the new token, logout (with the
                       refresh token);
              admin    the administrator's access token is refreshed (POST /auth/refresh) every
                       10 minutes, before it expires;
  sampling  every minute from the start of the load: the server's VmRSS, VmHWM, threads, open fds,
            CPU; snmpsimd's CPU; the sizes of netpulse.db, -wal, -shm and of the tsdb directory;
            /metrics (heap in use, tsdb head chunk bytes, series, checkpoint time); the rows of
            tsdb_chunks (sealed chunks); /api/v1/pollers (runs ok and failed, timeouts, overruns,
            throttled per kind); the requests of the minute, their errors and the slowest; WARN
            and ERROR lines of the server log; at the end of the warm-up and at the end, the
            rows of every table;
  report    a table per minute, the growth from the end of the warm-up to the end, every request
            kind with its outcomes, the pollers' health, snmpsimd's CPU, the log lines, and a
            verdict (PASS / FAIL with each reason). Exit status 0 on PASS, 1 on FAIL, 2 when the
            soak could not run.

Every request has a 30 s timeout. An answer is ok when its status is the one the route gives on
success; anything else is counted by kind as 4xx (per status and error code), 5xx, or transport
error (no answer: connection refused or reset, timeout), with the first answer of each kind kept.
"""

import argparse
import collections
import gzip
import http.client
import json
import math
import os
import random
import re
import sqlite3
import sys
import threading
import time
import urllib.parse

MIB = 1024 * 1024
TIMEOUT_S = 30


def log(msg):
    print(f"bench/soak: {msg}", file=sys.stderr, flush=True)


# --- request outcomes ----------------------------------------------------------------------------


class Counts:
    """Outcomes per request kind, for the whole run and for the minute under way (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.kinds = collections.defaultdict(collections.Counter)  # kind -> outcome -> n
        self.examples = {}  # (kind, outcome) -> the first answer of that outcome
        self.latency = collections.defaultdict(list)  # kind -> latencies (s), bounded below
        self.minute = collections.Counter()
        self.reconnects = collections.Counter()  # kind -> idle connections closed by the server

    def add(self, kind, outcome, latency_s, example=None):
        with self.lock:
            self.kinds[kind][outcome] += 1
            self.minute["requests"] += 1
            if outcome != "ok":
                self.minute["errors"] += 1
                self.minute[
                    "4xx"
                    if outcome.startswith("4")
                    else "5xx"
                    if outcome.startswith("5")
                    else "transport"
                ] += 1
                if (kind, outcome) not in self.examples:
                    self.examples[(kind, outcome)] = (example or "")[:300]
            self.minute["latency_sum"] += latency_s
            self.minute["latency_max"] = max(self.minute["latency_max"], latency_s)
            lat = self.latency[kind]
            if len(lat) < 200_000:
                lat.append(latency_s)

    def reconnect(self, kind):
        with self.lock:
            self.reconnects[kind] += 1

    def take_minute(self):
        with self.lock:
            m = self.minute
            self.minute = collections.Counter()
            return m


def error_code(body):
    try:
        e = json.loads(body)["error"]
        return e.get("code", "?"), e.get("message", "")
    except Exception:
        return None, body[:200].decode("utf-8", "replace") if isinstance(body, bytes) else ""


class Client:
    """One keep-alive HTTP/1.1 connection to the server; reconnects after a transport error."""

    def __init__(self, port, counts):
        self.port = port
        self.counts = counts
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def call(self, kind, method, path, body=None, headers=None, ok=(200,)):
        """Returns (status, body bytes), or (None, None) when no answer came."""
        h = {"Connection": "keep-alive"}
        if headers:
            h.update(headers)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        t0 = time.monotonic()
        for attempt in (1, 2):
            reused = self.conn is not None
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        "127.0.0.1", self.port, timeout=TIMEOUT_S
                    )
                self.conn.request(method, path, body=body, headers=h)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self.close()
                break
            except (OSError, http.client.HTTPException) as e:
                self.close()
                # The server may close an idle keep-alive connection just as we reuse it (as any
                # HTTP client does, we try once more on a new one); counted, not an error.
                if (
                    attempt == 1
                    and reused
                    and isinstance(
                        e, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
                    )
                ):
                    self.counts.reconnect(kind)
                    continue
                self.counts.add(
                    kind,
                    "transport",
                    time.monotonic() - t0,
                    f"{method} {path.split('?')[0]}: {type(e).__name__}: {e}",
                )
                return None, None
        latency = time.monotonic() - t0
        if resp.status in ok:
            self.counts.add(kind, "ok", latency)
        else:
            code, message = error_code(data)
            self.counts.add(
                kind,
                f"{resp.status} {code or ''}".strip(),
                latency,
                f"{method} {path.split('?')[0]}: {resp.status} {code or ''} {message}",
            )
        return resp.status, data


def data_of(body):
    try:
        return json.loads(body)["data"]
    except Exception:
        return None


# --- the administrator's session -----------------------------------------------------------------


class AdminSession:
    """The administrator's tokens, refreshed before the access token expires (thread-safe)."""

    def __init__(self, port, counts, email, password):
        self.client = Client(port, counts)
        self.lock = threading.Lock()
        status, body = self.client.call(
            "admin_login", "POST", "/api/v1/auth/login", {"email": email, "password": password}
        )
        d = data_of(body) if status == 200 else None
        if not d:
            raise SystemExit(f"bench/soak: the administrator's login failed: {status} {body!r}")
        self.access, self.refresh_token = d["access_token"], d["refresh_token"]
        self.renewed = time.monotonic()

    def header(self):
        with self.lock:
            return {"Authorization": f"Bearer {self.access}"}

    def renew_if_due(self, every_s=600):
        if time.monotonic() - self.renewed < every_s:
            return
        status, body = self.client.call(
            "admin_refresh", "POST", "/api/v1/auth/refresh", {"refresh_token": self.refresh_token}
        )
        d = data_of(body) if status == 200 else None
        self.client.close()  # used every 10 minutes: past the server's keep-alive idle time
        self.renewed = time.monotonic()
        if d:
            with self.lock:
                self.access, self.refresh_token = d["access_token"], d["refresh_token"]


# --- setup ---------------------------------------------------------------------------------------


def agent_address(i):
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


def setup(args, admin, counts):
    c = Client(args.port, counts)
    rows = ["name,address,type,snmp_version,snmp_community,snmp_port,poll_interval_s"]
    for i in range(args.devices):
        rows.append(
            f"soak-{i:04d},{agent_address(i)},switch,2c,public,{args.snmp_port},"
            f"{args.poll_interval}"
        )
    status, body = c.call(
        "setup",
        "POST",
        "/api/v1/devices/import",
        ("\n".join(rows) + "\n").encode(),
        {**admin.header(), "Content-Type": "text/csv"},
        ok=(201,),
    )
    d = data_of(body) if status == 201 else None
    if not d or d.get("created") != args.devices:
        raise SystemExit(
            f"bench/soak: the CSV import of {args.devices} devices failed: {status} "
            f"{(body or b'')[:500]!r}"
        )
    device_ids = sorted(x["id"] for x in d["devices"])

    status, body = c.call(
        "setup",
        "POST",
        "/api/v1/api-keys",
        {"name": "soak-telegraf", "role": "api_user"},
        admin.header(),
        ok=(201,),
    )
    d = data_of(body) if status == 201 else None
    if not d or "key" not in d:
        raise SystemExit(f"bench/soak: creating the API key failed: {status} {body!r}")
    api_key = d["key"]

    churn_email = "soak-churn@netpulse.test"
    churn_password = "soak-churn-" + os.urandom(8).hex()
    status, body = c.call(
        "setup",
        "POST",
        "/api/v1/users",
        {"email": churn_email, "name": "soak churn", "role": "viewer", "password": churn_password},
        admin.header(),
        ok=(201,),
    )
    if status != 201:
        raise SystemExit(f"bench/soak: creating the churn user failed: {status} {body!r}")
    c.close()
    return device_ids, api_key, churn_email, churn_password


# --- load loops ----------------------------------------------------------------------------------


class Loops:
    def __init__(self, args, admin, counts, device_ids, api_key, churn_email, churn_password):
        self.args = args
        self.admin = admin
        self.counts = counts
        self.device_ids = device_ids
        self.api_key = api_key
        self.churn = (churn_email, churn_password)
        self.stop = threading.Event()
        self.end = time.monotonic() + args.minutes * 60
        self.rng = random.Random(12)
        self.nonce = os.urandom(3).hex()

    def ticks(self, period_s):
        """Yields at start + k x period until the end time or stop; bounded in count."""
        start = time.monotonic()
        for k in range(int(self.args.minutes * 60 / period_s) + 2):
            due = start + k * period_s
            if due >= self.end or self.stop.is_set():
                return
            if self.stop.wait(max(0.0, due - time.monotonic())):
                return
            yield k

    # ingest ----------------------------------------------------------------------------------

    def ingest(self):
        c = Client(self.args.port, self.counts)
        hosts = self.args.ingest_hosts
        rng = random.Random(7)
        counters = collections.defaultdict(int)
        headers = {
            "Authorization": f"Token {self.api_key}",
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Encoding": "gzip",
            "User-Agent": "Telegraf/1.26 (soak)",
        }
        path = "/api/v2/write?org=soak&bucket=soak&precision=ns"
        for k in self.ticks(1.0):
            ts = int(time.time()) * 1_000_000_000
            main, strs = [], []
            for h in range(k % 5, hosts, 5):
                host = f"soak-h{h:03d}"
                u = rng.uniform(1, 60)
                main.append(
                    f"cpu,cpu=cpu-total,host={host} usage_user={u:.3f},"
                    f"usage_system={u / 3:.3f},usage_idle={100 - u * 1.4:.3f},"
                    f"usage_iowait={rng.uniform(0, 2):.3f} {ts}"
                )
                main.append(
                    f"mem,host={host} used_percent={rng.uniform(20, 80):.2f},"
                    f"available={rng.randrange(1 << 30, 8 << 30)}i,"
                    f"used={rng.randrange(1 << 30, 8 << 30)}i {ts}"
                )
                main.append(
                    f"disk,device=sda1,fstype=ext4,host={host},mode=rw,path=/ "
                    f"used_percent={rng.uniform(10, 90):.2f},free={rng.randrange(1 << 34)}i,"
                    f"inodes_used={rng.randrange(100000, 200000)}i {ts}"
                )
                for ifname in ("eth0", "eth1"):
                    key = (h, ifname)
                    counters[key] += rng.randrange(10_000, 5_000_000)
                    n = counters[key]
                    main.append(
                        f"net,host={host},interface={ifname} bytes_recv={n}i,"
                        f"bytes_sent={n // 3}i,packets_recv={n // 900}i,err_in={n >> 30}i {ts}"
                    )
                main.append(
                    f"service,host={host},name=nginx active={'true' if h % 7 else 'false'},"
                    f"healthy={'t' if rng.random() > 0.01 else 'f'} {ts}"
                )
                main.append(
                    f"system,host={host} load1={rng.uniform(0, 4):.2f},"
                    f"load5={rng.uniform(0, 3):.2f},load15={rng.uniform(0, 2):.2f},"
                    f"n_cpus=4i,n_users={h % 3}i,uptime={86400 * (h + 1) + k}u {ts}"
                )
                days = h + 1
                strs.append(
                    f'system,host={host} uptime_format="{days} days, {k % 24:2d}:{k % 60:02d}" {ts}'
                )
                strs.append(
                    f"net_response,host={host},port=443,protocol=tcp,server=portal.isp.example "
                    f"response_time={rng.uniform(0.001, 0.05):.4f},result_code=0i,"
                    f'result_type="success" {ts}'
                )
            c.call(
                "write",
                "POST",
                path,
                gzip.compress(("\n".join(main) + "\n").encode(), 1),
                headers,
                ok=(204,),
            )
            c.call(
                "write_str",
                "POST",
                path,
                gzip.compress(("\n".join(strs) + "\n").encode(), 1),
                headers,
                ok=(204,),
            )
        c.close()

    # reads -----------------------------------------------------------------------------------

    def reads(self):
        c = Client(self.args.port, self.counts)
        rng = random.Random(3)
        q = urllib.parse.quote
        pages = max(1, math.ceil(len(self.device_ids) / 50))

        def device():
            return rng.choice(self.device_ids)

        def name():
            return f"soak-{rng.randrange(len(self.device_ids)):04d}"

        def host():
            return f"soak-h{rng.randrange(self.args.ingest_hosts):03d}"

        def now():
            return int(time.time())

        reads = [
            (
                "devices_list",
                lambda: f"/api/v1/devices?page={rng.randrange(1, pages + 1)}"
                f"&per_page=50&sort=name",
            ),
            ("device", lambda: f"/api/v1/devices/{device()}"),
            ("interfaces", lambda: f"/api/v1/devices/{device()}/interfaces"),
            (
                "query_range_snmp",
                lambda: "/api/v1/query_range?query="
                + q(f'ifHCInOctets{{device="{name()}"}}')
                + f"&start={now() - 900}&step=60&fn=rate",
            ),
            (
                "query_range_ingest",
                lambda: "/api/v1/query_range?query="
                + q(f'cpu_usage_idle{{host="{host()}"}}')
                + f"&start={now() - 600}",
            ),
            ("query", lambda: "/api/v1/query?query=" + q(f'device_up{{device="{name()}"}}')),
            (
                "series",
                lambda: "/api/v1/series?match[]=" + q(f'mem_used_percent{{host="{host()}"}}'),
            ),
            ("events", lambda: f"/api/v1/events?per_page=50&page={rng.randrange(1, 4)}"),
            ("pollers", lambda: "/api/v1/pollers"),
            ("groups", lambda: "/api/v1/device-groups"),
        ]
        for k in self.ticks(1.0 / self.args.read_rps):
            self.admin.renew_if_due()
            kind, path = reads[k % len(reads)]
            c.call(kind, "GET", path(), headers=self.admin.header())
        c.close()

    # writes ----------------------------------------------------------------------------------

    def writes(self):
        c = Client(self.args.port, self.counts)
        cycle = 0
        gid = did = None
        for k in self.ticks(3.0):
            step = k % 7
            h = self.admin.header()
            if step == 0:
                cycle += 1
                gid = did = None
                status, body = c.call(
                    "group_create",
                    "POST",
                    "/api/v1/device-groups",
                    {"name": f"soak-group-{self.nonce}-{cycle}", "description": "bench/soak.sh"},
                    h,
                    ok=(201,),
                )
                d = data_of(body) if status == 201 else None
                gid = d["id"] if d else None
            elif step == 1 and gid is not None:
                status, body = c.call(
                    "device_create",
                    "POST",
                    "/api/v1/devices",
                    {
                        "name": f"soak-tmp-{self.nonce}-{cycle}",
                        "address": f"127.0.200.{1 + cycle % 250}",
                        "type": "server",
                        "tags": ["soak"],
                        "groups": [f"soak-group-{self.nonce}-{cycle}"],
                        "poll_interval_s": 10,
                        "enabled": True,
                    },
                    h,
                    ok=(201,),
                )
                d = data_of(body) if status == 201 else None
                did = d["id"] if d else None
            elif step == 2 and did is not None:
                c.call(
                    "device_patch",
                    "PATCH",
                    f"/api/v1/devices/{did}",
                    {
                        "name": f"soak-tmp-{self.nonce}-{cycle}-patched",
                        "tags": ["soak", "patched"],
                        "location": "bench",
                    },
                    h,
                )
            elif step == 3 and did is not None:
                c.call("device_get", "GET", f"/api/v1/devices/{did}", headers=h)
            elif step == 4 and gid is not None:
                c.call(
                    "group_patch",
                    "PATCH",
                    f"/api/v1/device-groups/{gid}",
                    {"description": f"patched in cycle {cycle}"},
                    h,
                )
            elif step == 5 and did is not None:
                c.call("device_delete", "DELETE", f"/api/v1/devices/{did}", headers=h, ok=(204,))
            elif step == 6 and gid is not None:
                c.call(
                    "group_delete", "DELETE", f"/api/v1/device-groups/{gid}", headers=h, ok=(204,)
                )
        # A cycle cut by the end time leaves its device or group: removed so that a re-run on the
        # same data directory starts clean (not counted).
        if did is not None and step < 5:
            c.call(
                "cleanup",
                "DELETE",
                f"/api/v1/devices/{did}",
                headers=self.admin.header(),
                ok=(204,),
            )
        if gid is not None and step < 6:
            c.call(
                "cleanup",
                "DELETE",
                f"/api/v1/device-groups/{gid}",
                headers=self.admin.header(),
                ok=(204,),
            )
        c.close()

    # login churn -----------------------------------------------------------------------------

    def auth(self):
        c = Client(self.args.port, self.counts)
        email, password = self.churn
        for _ in self.ticks(self.args.login_interval):
            status, body = c.call(
                "login", "POST", "/api/v1/auth/login", {"email": email, "password": password}
            )
            d = data_of(body) if status == 200 else None
            if not d:
                continue
            c.call(
                "me",
                "GET",
                "/api/v1/auth/me",
                headers={"Authorization": f"Bearer {d['access_token']}"},
            )
            status, body = c.call(
                "refresh", "POST", "/api/v1/auth/refresh", {"refresh_token": d["refresh_token"]}
            )
            d2 = data_of(body) if status == 200 else None
            if not d2:
                continue
            bearer = {"Authorization": f"Bearer {d2['access_token']}"}
            c.call("me", "GET", "/api/v1/auth/me", headers=bearer)
            c.call(
                "logout",
                "POST",
                "/api/v1/auth/logout",
                {"refresh_token": d2["refresh_token"]},
                bearer,
                ok=(204,),
            )
        c.close()

    def start(self):
        self.threads = [
            threading.Thread(target=f, name=f.__name__, daemon=True)
            for f in (self.ingest, self.reads, self.writes, self.auth)
        ]
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(TIMEOUT_S + 10)
        return [t.name for t in self.threads if t.is_alive()]


# --- sampling ------------------------------------------------------------------------------------


def status_fields(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()[0] if v.split() else ""
    return out


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def file_size(path):
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def dir_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += file_size(os.path.join(root, name))
    return total


def table_rows(db_path):
    """Rows per table of the server's database, read through a read-only connection (WAL mode:
    the server's writer is not blocked). {} when it cannot be read."""
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                    "'sqlite_%'"
                )
            ]
            return {n: conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}
        finally:
            conn.close()
    except sqlite3.Error as e:
        log(f"could not count the database's rows: {e}")
        return {}


def sealed_chunks(db_path):
    """Rows of tsdb_chunks: the sealed chunks, each of which the store also keeps in memory (with
    a 16-byte entry beside its bytes) for tsdb.head_keep_h (24 h) while the chunk bytes fit in
    tsdb.head_max_mb. None when it cannot be read."""
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM tsdb_chunks").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def parse_metrics(text):
    out = collections.defaultdict(float)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("{")[0].split()[0]
        try:
            out[name] += float(line.rsplit(None, 1)[-1])
        except ValueError:
            pass
    return out


LOG_LEVEL = re.compile(r"^\S+ (WARN|ERROR)\s+\[([^\]]*)\] (.*)$")


class LogWatch:
    """Reads the server log as it grows: WARN and ERROR lines, counted, with their messages."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = b""
        self.messages = collections.Counter()  # (level, component, message with digits as #)
        self.first = {}

    def scan(self):
        counts = collections.Counter()
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read(64 * MIB)
        except OSError:
            return counts
        self.offset += len(chunk)
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()
        for raw in lines:
            m = LOG_LEVEL.match(raw.decode("utf-8", "replace"))
            if not m:
                continue
            level, component, message = m.groups()
            counts[level] += 1
            key = (level, component, re.sub(r"\d+", "#", message)[:160])
            self.messages[key] += 1
            self.first.setdefault(key, message[:300])
        return counts


class Sampler:
    def __init__(self, args, admin, counts):
        self.args = args
        self.admin = admin
        self.counts = counts
        self.logs = LogWatch(args.server_log)
        self.rows = []
        self.died = None
        self.prev = None

    def pollers(self):
        c = Client(self.args.port, self.counts)
        status, body = c.call(
            "sample_pollers", "GET", "/api/v1/pollers", headers=self.admin.header()
        )
        c.close()
        d = data_of(body) if status == 200 else None
        if not d:
            return None
        # A system administrator (the soak's) sees the whole server under "server" where the
        # answer is per organization; the server-wide figures otherwise are the top level's.
        whole = d.get("server") if isinstance(d.get("server"), dict) else d
        return whole.get("kinds")

    def metrics(self):
        c = Client(self.args.port, self.counts)
        status, body = c.call("sample_metrics", "GET", "/metrics")
        c.close()
        return parse_metrics(body.decode("utf-8", "replace")) if status == 200 else {}

    def sample(self, minute):
        pid, d = self.args.server_pid, self.args.data_dir
        if not os.path.exists(f"/proc/{pid}/status"):
            self.died = minute
            return None
        st = status_fields(pid)
        now = time.monotonic()
        row = {
            "minute": minute,
            "t": now,
            "rss": int(st.get("VmRSS", 0)) * 1024,
            "hwm": int(st.get("VmHWM", 0)) * 1024,
            "threads": int(st.get("Threads", 0)),
            "fds": len(os.listdir(f"/proc/{pid}/fd")),
            "cpu_s": cpu_seconds(pid),
            "sim_cpu_s": [
                cpu_seconds(p) if os.path.exists(f"/proc/{p}/stat") else float("nan")
                for p in self.args.snmpsim_pids
            ],
            "db": file_size(os.path.join(d, "netpulse.db")),
            "wal": file_size(os.path.join(d, "netpulse.db-wal")),
            "shm": file_size(os.path.join(d, "netpulse.db-shm")),
            "tsdb": dir_size(os.path.join(d, "tsdb")),
            "load1": float(open("/proc/loadavg").read().split()[0]),
        }
        m = self.metrics()
        row["heap"] = m.get("netpulse_heap_in_use_bytes", float("nan"))
        row["head"] = m.get("netpulse_tsdb_head_chunk_bytes", float("nan"))
        row["sqlite"] = m.get("netpulse_sqlite_memory_bytes", float("nan"))
        row["ckpt_s"] = m.get("netpulse_tsdb_checkpoint_seconds_sum", float("nan"))
        row["series"] = int(m.get("netpulse_tsdb_series", 0))
        row["refused"] = m.get("netpulse_tsdb_refused_samples_total", 0)
        # A failed read of /api/v1/pollers (counted as an error) repeats the last one: delta 0.
        kinds = self.pollers()
        row["kinds"] = kinds if kinds is not None else (self.prev or {}).get("kinds", {})
        row["req"] = self.counts.take_minute()
        row["log"] = self.logs.scan()
        if minute in (self.args.warmup_minutes, self.args.minutes):
            row["tables"] = table_rows(os.path.join(d, "netpulse.db"))
        chunks = sealed_chunks(os.path.join(d, "netpulse.db"))
        row["chunks"] = chunks if chunks is not None else float("nan")
        # What the tsdb holds for its samples, by design: the chunk bytes it reports, and the
        # store's 16-byte entry per sealed chunk in memory (src/tsdb/detail/store_impl.hpp, MemChunk; exact
        # capacity) for every chunk sealed in the last 24 hours (beyond tsdb.head_max_mb it keeps
        # fewer, and this overstates it).
        head = row["head"] if row["head"] == row["head"] else 0.0
        row["tsdb_mem"] = head + (16 * chunks if chunks is not None else 0)
        if self.prev is not None:
            dt = row["t"] - self.prev["t"]
            row["cpu_pct"] = 100 * (row["cpu_s"] - self.prev["cpu_s"]) / dt
            row["ckpt_minute_s"] = row["ckpt_s"] - self.prev["ckpt_s"]
            each = [100 * (b - a) / dt for a, b in zip(self.prev["sim_cpu_s"], row["sim_cpu_s"])]
            row["sim_cpu_pct"] = sum(each)
            row["sim_cpu_pct_max"] = max(each)
            for kind in ("snmp", "icmp"):
                a, b = self.prev["kinds"].get(kind, {}), row["kinds"].get(kind, {})
                for f in ("runs_ok", "runs_failed", "timeouts", "overruns", "throttled"):
                    row[f"{kind}_{f}"] = b.get(f, 0) - a.get(f, 0)
        self.prev = row
        self.rows.append(row)
        return row


def progress_line(r):
    if "cpu_pct" not in r:
        return (
            f"minute {r['minute']:>3}: rss {r['rss'] / MIB:.1f} MiB, fds {r['fds']}, "
            f"threads {r['threads']}, series {r['series']}"
        )
    return (
        f"minute {r['minute']:>3}: rss {r['rss'] / MIB:.1f} MiB, fds {r['fds']}, "
        f"threads {r['threads']}, cpu {r['cpu_pct']:.0f}%, snmpsimd {r['sim_cpu_pct']:.0f}%, "
        f"series {r['series']}, requests {r['req']['requests']} errors {r['req']['errors']}, "
        f"snmp ok/failed {r['snmp_runs_ok']}/{r['snmp_runs_failed']}, "
        f"icmp ok/failed {r['icmp_runs_ok']}/{r['icmp_runs_failed']}, "
        f"log WARN {r['log']['WARN']} ERROR {r['log']['ERROR']}, load {r['load1']:.1f}"
    )


# --- report --------------------------------------------------------------------------------------


def pct(a, b):
    return 100.0 * (b - a) / a if a else float("nan")


def slope_per_hour(points):
    """Least-squares slope of (seconds, value) points, per hour."""
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return float("nan")
    return 3600 * sum((p[0] - mx) * (p[1] - my) for p in points) / sxx


def quantile(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


# Refusals a server without the line-protocol fix of issue 12 gives to the string-field lines.
KNOWN_REFUSALS = {
    ("write_str", "400 INVALID_INPUT"): "string fields refused: expected until the issue-12 "
    "line-protocol fix (skip and count string fields) lands",
}


def report(args, rows, counts, sampler, stuck, out):
    w = out.write
    warm = args.warmup_minutes
    table = [r for r in rows if "cpu_pct" in r]
    w(
        "\nper minute. MiB: rss, hwm = peak rss, heap = heap in use (mallinfo2), head = tsdb chunk "
        "bytes "
        "in memory, sql = SQLite\nmemory, db, wal, tsdb = the append log directory; shm KiB; kchk "
        "= "
        "thousands of sealed tsdb chunks; cpu = % of one core\nover the minute (sim: the snmpsimd "
        "processes); req, err = requests of the load and their errors, max = the slowest in ms;\n"
        "ckpt = seconds the tsdb spent writing checkpoints; snmp, icmp = poller runs ok/failed; W, "
        "E = "
        "WARN and ERROR log\nlines; load = load average (1 min)\n"
    )
    w(
        f"{'min':>3} {'rss':>7} {'hwm':>7} {'heap':>7} {'head':>6} {'kchk':>5} {'sql':>5} "
        f"{'fds':>5} "
        f"{'thr':>3} {'cpu%':>5} {'sim%':>5} {'db':>6} {'wal':>6} {'shm':>5} {'tsdb':>6} "
        f"{'series':>7} "
        f"{'req':>5} {'err':>4} {'max':>5} {'ckpt':>4} {'snmp':>10} {'icmp':>10} {'W':>3} {'E':>3} "
        f"{'load':>5}\n"
    )

    def num(x, scale=1.0, fmt=".1f"):
        return "-" if x is None or x != x else f"{x / scale:{fmt}}"

    for r in rows:
        busy = "cpu_pct" in r

        def ratio(kind):
            return f"{r[kind + '_runs_ok']}/{r[kind + '_runs_failed']}" if busy else "-"

        w(
            f"{r['minute']:>3} {num(r['rss'], MIB):>7} {num(r['hwm'], MIB):>7} "
            f"{num(r['heap'], MIB):>7} "
            f"{num(r['head'], MIB):>6} {num(r['chunks'], 1000, '.0f'):>5} "
            f"{num(r['sqlite'], MIB):>5} "
            f"{r['fds']:>5} {r['threads']:>3} "
            f"{num(r.get('cpu_pct')):>5} {num(r.get('sim_cpu_pct')):>5} {num(r['db'], MIB):>6} "
            f"{num(r['wal'], MIB):>6} {num(r['shm'], 1024, '.0f'):>5} {num(r['tsdb'], MIB):>6} "
            f"{r['series']:>7} {r['req']['requests']:>5} {r['req']['errors']:>4} "
            f"{num(1000 * r['req']['latency_max'], 1, '.0f'):>5} {num(r.get('ckpt_minute_s')):>4} "
            f"{ratio('snmp'):>10} {ratio('icmp'):>10} {r['log']['WARN']:>3} {r['log']['ERROR']:>3} "
            f"{r['load1']:>5.1f}\n"
        )

    reasons = []
    if sampler.died is not None:
        reasons.append(f"the server died before minute {sampler.died}")
    if stuck:
        reasons.append(
            f"load loops still running {TIMEOUT_S + 10} s after the end: {', '.join(stuck)}"
        )

    # Growth from the end of the warm-up to the end. Memory is not smooth: a tsdb checkpoint
    # (every 5 minutes) holds a snapshot of the head for a while, and the allocator may keep what
    # it freed for minutes after. So each end is the LOWEST sample of a window of 6 minutes (more
    # than a checkpoint period): minutes W..W+5 and the last 6; a leak lifts the lows too. Shorter
    # runs use 3 samples, or 1.
    base = next((r for r in rows if r["minute"] == warm), None)
    last = rows[-1] if rows else None
    after = [r for r in rows if r["minute"] >= warm]
    window = 6 if len(after) >= 12 else 3 if len(after) >= 6 else 1
    first_rows, last_rows = after[:window], after[-window:]
    if base is None or last is None or last is base:
        reasons.append(f"no samples after the warm-up of {warm} minute(s)")
        w("\ngrowth: no samples after the warm-up\n")
    else:
        w(
            f"\ngrowth after the warm-up: the lowest sample of minutes {first_rows[0]['minute']}-"
            f"{first_rows[-1]['minute']} -> of minutes "
            f"{last_rows[0]['minute']}-{last_rows[-1]['minute']} "
            f"(trend: least squares over minutes {warm}-{last['minute']}):\n"
        )
        span = (last["t"] - base["t"]) / 60
        for r in after:
            r["rss_less_tsdb"] = r["rss"] - r["tsdb_mem"]
            r["heap_less_tsdb"] = r["heap"] - r["tsdb_mem"]

        def line(label, key, scale, unit, fmt=".1f"):
            a = min(r[key] for r in first_rows) / scale
            b = min(r[key] for r in last_rows) / scale
            slope = slope_per_hour([(r["t"], r[key] / scale) for r in after])
            w(
                f"  {label:<34} {a:>10{fmt}} -> {b:>10{fmt}} {unit:<4} {pct(a, b):+7.2f} %"
                f"   (trend {slope:+.1f} {unit}/h)\n"
            )
            return pct(a, b)

        rss_growth = line("RSS (VmRSS)", "rss", MIB, "MiB")
        tsdb_a, tsdb_b = first_rows[0]["tsdb_mem"], last_rows[-1]["tsdb_mem"]
        line("tsdb chunk bytes in memory", "head", MIB, "MiB")
        line("sealed chunks (tsdb_chunks rows)", "chunks", 1, "", ".0f")
        line("tsdb samples in memory (see below)", "tsdb_mem", MIB, "MiB")
        rss_own = line("RSS less the tsdb samples", "rss_less_tsdb", MIB, "MiB")
        heap_own = line("heap in use less the tsdb samples", "heap_less_tsdb", MIB, "MiB")
        line("heap in use (mallinfo2)", "heap", MIB, "MiB")
        line("peak RSS (VmHWM)", "hwm", MIB, "MiB")
        line("SQLite memory", "sqlite", MIB, "MiB")
        fd_growth = line("open file descriptors", "fds", 1, "", ".0f")
        thr_growth = line("threads", "threads", 1, "", ".0f")
        line("tsdb series", "series", 1, "", ".0f")
        line("netpulse.db", "db", MIB, "MiB")
        line("netpulse.db-wal", "wal", MIB, "MiB")
        line("tsdb directory (append log)", "tsdb", MIB, "MiB")
        t0, t1 = base.get("tables", {}), last.get("tables", {})
        changed = sorted(
            (n for n in t1 if t1[n] != t0.get(n)), key=lambda n: -(t1[n] - t0.get(n, 0))
        )
        if changed:
            w(f"  database rows of the tables that changed (minute {warm} -> {last['minute']}):\n")
            for n in changed:
                w(
                    f"    {n:<30} {t0.get(n, 0):>10} -> {t1[n]:>10}   "
                    f"({60 * (t1[n] - t0.get(n, 0)) / span:+.0f} rows/h)\n"
                )
        limit = args.max_growth_pct
        heap_known = heap_own == heap_own

        def verdict(g):
            return "ok" if g < limit else "NOT MET"

        heap_text = f"{heap_own:+.2f} % ({verdict(heap_own)})" if heap_known else "unknown"
        threads_text = "flat" if thr_growth == 0 else f"{thr_growth:+.2f} %"
        w(
            "  The tsdb keeps recent samples in memory by design (sealed chunks for\n"
            "  tsdb.head_keep_h, 24 h, while they fit in tsdb.head_max_mb; docs/tsdb.md):\n"
            "  its chunk bytes (netpulse_tsdb_head_chunk_bytes) and a 16-byte entry per sealed\n"
            f"  chunk, here {(tsdb_b - tsdb_a) / MIB:+.1f} MiB from minute "
            f"{first_rows[0]['minute']} to {last_rows[-1]['minute']}.\n"
            "  What a leak would add is the growth beside them.\n"
            f"  Target: < {limit:g} % after the warm-up. RSS less the tsdb samples: "
            f"{rss_own:+.2f} % ({verdict(rss_own)});\n"
            f"  heap in use less the tsdb samples: {heap_text}; open fds: {fd_growth:+.2f} % "
            f"({verdict(fd_growth)}); raw RSS {rss_growth:+.2f} %;\n"
            f"  threads {threads_text}.\n"
        )
        if not rss_own < limit:
            reasons.append(
                f"RSS less the tsdb samples in memory grew {rss_own:.2f} % (>= {limit:g} %) "
                f"after the warm-up (raw RSS {rss_growth:+.2f} %)"
            )
        if heap_known and not heap_own < limit:
            reasons.append(
                f"heap in use less the tsdb samples in memory grew {heap_own:.2f} % "
                f"(>= {limit:g} %) after the warm-up"
            )
        if not fd_growth < limit:
            reasons.append(f"open fds grew {fd_growth:.2f} % (>= {limit:g} %) after the warm-up")

    # Requests.
    w("\nrequests of the load, whole run (latency p50 / p99 / max in ms):\n")
    total = collections.Counter()
    known = 0
    for kind in sorted(counts.kinds):
        c = counts.kinds[kind]
        lat = counts.latency[kind]
        bad = {k: v for k, v in c.items() if k != "ok"}
        total["requests"] += sum(c.values())
        total["ok"] += c["ok"]
        w(
            f"  {kind:<20} {sum(c.values()):>7} ok {c['ok']:>7}"
            f"   {1000 * quantile(lat, 0.5):7.1f} {1000 * quantile(lat, 0.99):8.1f} "
            f"{1000 * max(lat, default=float('nan')):8.1f}"
            + ("".join(f"   {k}: {v}" for k, v in sorted(bad.items())) + "\n")
        )
        for outcome, n in bad.items():
            total[
                "4xx"
                if outcome.startswith("4")
                else "5xx"
                if outcome.startswith("5")
                else "transport"
            ] += n
            if (kind, outcome) in KNOWN_REFUSALS:
                known += n
    w(
        f"  {'all':<20} {total['requests']:>7} ok {total['ok']:>7}   4xx {total['4xx']}, "
        f"5xx {total['5xx']}, transport errors {total['transport']}\n"
    )
    if counts.reconnects:
        w(
            "  idle keep-alive connections the server closed as they were reused (request sent "
            "again, "
            "not an error): "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.reconnects.items()))
            + "\n"
        )
    if counts.examples:
        w("  first answer of each error:\n")
        for (kind, outcome), example in sorted(counts.examples.items()):
            note = KNOWN_REFUSALS.get((kind, outcome))
            w(f"    {kind} {outcome}: {example}\n" + (f"      ({note})\n" if note else ""))
    unexpected = total["4xx"] + total["5xx"] + total["transport"] - known
    if total["5xx"]:
        reasons.append(f"{total['5xx']} answers 5xx")
    if total["transport"]:
        reasons.append(f"{total['transport']} requests without an answer (transport errors)")
    if total["4xx"] - known:
        reasons.append(f"{total['4xx'] - known} unexpected answers 4xx")
    if known:
        reasons.append(f"{known} string-field writes refused (400; known, see above)")
    if total["ok"] == 0:
        reasons.append("no request succeeded")

    # Pollers.
    w(
        "\npollers after the warm-up (runs of the minutes after minute "
        f"{warm}; expected per kind about devices x minutes x 60 / interval):\n"
    )
    post = [r for r in table if r["minute"] > warm]
    expected = round(args.devices * len(post) * 60 / args.poll_interval)
    for kind in ("snmp", "icmp"):
        s = {
            f: sum(r.get(f"{kind}_{f}", 0) for r in post)
            for f in ("runs_ok", "runs_failed", "timeouts", "overruns", "throttled")
        }
        extra = "; plus the write loop's devices" if kind == "icmp" else ""
        w(
            f"  {kind}: runs ok {s['runs_ok']}, failed {s['runs_failed']}, timeouts "
            f"{s['timeouts']}, "
            f"overruns {s['overruns']}, throttled {s['throttled']} (expected about "
            f"{expected}{extra})\n"
        )
        bad = s["runs_failed"] + s["timeouts"] + s["overruns"] + s["throttled"]
        if bad:
            reasons.append(
                f"{kind} polling: {s['runs_failed']} failed, {s['timeouts']} timeouts, "
                f"{s['overruns']} overruns, {s['throttled']} throttled after the warm-up"
            )
        if kind == "snmp" and post and s["runs_ok"] < 0.95 * expected:
            reasons.append(
                f"snmp: {s['runs_ok']} runs ok after the warm-up, expected about {expected}"
            )
    if post:
        sim = [r["sim_cpu_pct"] for r in post]
        busiest = max(r["sim_cpu_pct_max"] for r in post)
        n = len(args.snmpsim_pids)
        w(
            f"  snmpsimd CPU ({n} process{'es' if n > 1 else ''}): mean {sum(sim) / len(sim):.1f} "
            "%, max "
            f"{max(sim):.1f} % of one core in all, busiest process {busiest:.1f} % (the agents "
            "keep up "
            f"while each stays well below 100 % and SNMP has no timeouts)\n"
        )
        timeouts = sum(r.get("snmp_timeouts", 0) for r in post)
        load = max(r["load1"] for r in post)
        if timeouts and (busiest > 80 or load > 2 * (os.cpu_count() or 1)):
            w(
                f"  NOTE: {timeouts} SNMP timeouts while the busiest snmpsimd process used "
                f"{busiest:.0f} % "
                f"of a core and the load\n  average reached {load:.1f} on {os.cpu_count()} CPUs: "
                "the "
                "agents probably did not keep up (more SOAK_SNMPSIM_PROCS,\n  a lower "
                "SOAK_SNMPSIM_NICE "
                f"or a quieter machine), which says nothing about the server.\n"
            )
        cpu = [r["cpu_pct"] for r in post]
        w(
            f"  netpulse CPU: mean {sum(cpu) / len(cpu):.1f} %, max {max(cpu):.1f} % of one core; "
            f"load average (1 min) mean {sum(r['load1'] for r in post) / len(post):.1f}, "
            f"max {max(r['load1'] for r in post):.1f} on {os.cpu_count()} CPUs\n"
        )
    if rows:
        w(f"  tsdb samples refused (whole run): {int(rows[-1]['refused'])}\n")

    # Server log.
    levels = collections.Counter()
    for (level, _, _), n in sampler.logs.messages.items():
        levels[level] += n
    w(f"\nserver log: {levels['ERROR']} ERROR, {levels['WARN']} WARN lines")
    w(":\n" if sampler.logs.messages else "\n")
    for key, n in sampler.logs.messages.most_common(25):
        w(f"  {n:>6} x {key[0]} [{key[1]}] {sampler.logs.first[key]}\n")
    if levels["ERROR"]:
        reasons.append(f"{levels['ERROR']} ERROR lines in the server log")
    return reasons


# --- main ----------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--server-pid", type=int, required=True)
    p.add_argument(
        "--snmpsim-pids", required=True, help="comma-separated PIDs of the snmpsimd processes"
    )
    p.add_argument("--data-dir", required=True)
    p.add_argument("--server-log", required=True)
    p.add_argument("--admin-email", required=True)
    p.add_argument(
        "--admin-password-env",
        default="SOAK_ADMIN_PASSWORD",
        help="the environment variable holding the administrator's password",
    )
    p.add_argument("--devices", type=int, default=1000)
    p.add_argument("--snmp-port", type=int, required=True)
    p.add_argument("--poll-interval", type=int, default=60)
    p.add_argument("--minutes", type=int, default=30)
    p.add_argument("--warmup-minutes", type=int, default=5)
    p.add_argument("--ingest-hosts", type=int, default=200)
    p.add_argument("--read-rps", type=float, default=4.0)
    p.add_argument("--login-interval", type=float, default=5.0)
    p.add_argument("--max-growth-pct", type=float, default=5.0)
    p.add_argument("--report", required=True)
    p.add_argument("--rows-json", help="also write every sample and the request counts here")
    args = p.parse_args()
    args.snmpsim_pids = [int(x) for x in args.snmpsim_pids.split(",")]
    if not 1 <= args.warmup_minutes < args.minutes:
        raise SystemExit(
            "bench/soak: the warm-up must be at least 1 minute and shorter than the soak"
        )

    counts = Counts()
    admin = AdminSession(args.port, counts, args.admin_email, os.environ[args.admin_password_env])
    t_setup = time.monotonic()
    device_ids, api_key, churn_email, churn_password = setup(args, admin, counts)
    log(
        f"imported {len(device_ids)} devices in {time.monotonic() - t_setup:.1f} s; load for "
        f"{args.minutes} min (warm-up {args.warmup_minutes})"
    )
    counts.kinds.clear()
    counts.examples.clear()
    counts.take_minute()

    loops = Loops(args, admin, counts, device_ids, api_key, churn_email, churn_password)
    sampler = Sampler(args, admin, counts)
    start = time.monotonic()
    loops.end = start + args.minutes * 60
    loops.start()
    for minute in range(args.minutes + 1):
        due = start + 60 * minute
        time.sleep(max(0.0, due - time.monotonic()))
        row = sampler.sample(minute)
        if row is None:
            log(f"minute {minute}: the server (pid {args.server_pid}) is gone")
            break
        log(progress_line(row))
    stuck = loops.join()

    with open(args.report, "w") as out:
        reasons = report(args, sampler.rows, counts, sampler, stuck, out)
        out.write("\nverdict: " + ("PASS" if not reasons else "FAIL") + "\n")
        for r in reasons:
            out.write(f"  - {r}\n")
    if args.rows_json:
        with open(args.rows_json, "w") as out:
            json.dump(
                {
                    "rows": sampler.rows,
                    "requests": counts.kinds,
                    "errors": {f"{k} {o}": e for (k, o), e in counts.examples.items()},
                    "log": [
                        {
                            "level": k[0],
                            "component": k[1],
                            "count": n,
                            "first": sampler.logs.first[k],
                        }
                        for k, n in sampler.logs.messages.items()
                    ],
                    "verdict": reasons,
                },
                out,
                indent=1,
                default=str,
            )
    sys.exit(1 if reasons else 0)


if __name__ == "__main__":
    main()
