#!/usr/bin/env python3
# bench/poller_scrape.py — the Prometheus side of bench/poller.sh: scrapes prometheus-snmp-exporter
# for every target of a list once per cycle, as Prometheus would, and prints what came back.
#
#   poller_scrape.py --port P --targets FILE --interval S --cycles N [--workers W] [--module M]
#
# Target i of n is scraped at offset i/n of each interval (Prometheus spreads its targets over the
# interval too), GET http://127.0.0.1:P/snmp?target=T&module=M, by W threads (default 32), each
# with its own keep-alive connection; a thread behind its schedule starts the next scrape at once
# (counted as late when more than 1 s behind). Every scrape has a 30 s timeout, so the run ends at
# most cycles x interval + 30 s after it started (plus the scrapes a slow exporter queues).
# Prints one line: scrapes ok failed late pdus (sum of the exporter's own snmp_scrape_pdus_returned,
# the varbinds it walked) samples (sample lines other than snmp_scrape_*) bytes wall_s.
import argparse
import http.client
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--interval", type=float, required=True)
    ap.add_argument("--cycles", type=int, required=True)
    ap.add_argument("--workers", type=int, default=32)
    ap.add_argument("--module", default="if_mib")
    a = ap.parse_args()
    if not (1 <= a.cycles <= 100 and 0.1 <= a.interval <= 3600 and 1 <= a.workers <= 256):
        sys.exit("poller_scrape.py: --cycles 1..100, --interval 0.1..3600, --workers 1..256")
    with open(a.targets) as f:
        targets = [line.strip() for line in f if line.strip()]
    n = len(targets)
    totals = {"scrapes": 0, "ok": 0, "failed": 0, "late": 0, "pdus": 0, "samples": 0, "bytes": 0}
    lock = threading.Lock()
    t0 = time.monotonic() + 0.2

    def scrape(conn, target):
        conn.request("GET", f"/snmp?target={target}&module={a.module}")
        res = conn.getresponse()
        body = res.read()
        if res.status != 200:
            raise RuntimeError(f"HTTP {res.status}")
        pdus = samples = 0
        for line in body.split(b"\n"):
            if not line or line.startswith(b"#"):
                continue
            if line.startswith(b"snmp_scrape_"):
                if line.startswith(b"snmp_scrape_pdus_returned "):
                    pdus = int(float(line.split()[1]))
                continue
            samples += 1
        return pdus, samples, len(body)

    def worker(w):
        conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=30)
        mine = {k: 0 for k in totals}
        for c in range(a.cycles):
            for i in range(w, n, a.workers):
                slot = t0 + c * a.interval + i * a.interval / n
                delay = slot - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -1:
                    mine["late"] += 1
                mine["scrapes"] += 1
                try:
                    pdus, samples, size = scrape(conn, targets[i])
                    mine["ok"] += 1
                    mine["pdus"] += pdus
                    mine["samples"] += samples
                    mine["bytes"] += size
                except Exception as e:  # noqa: BLE001 - any failure is one failed scrape
                    mine["failed"] += 1
                    if mine["failed"] <= 3:
                        print(f"poller_scrape.py: {targets[i]}: {e}", file=sys.stderr)
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=30)
        conn.close()
        with lock:
            for k, v in mine.items():
                totals[k] += v

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(min(a.workers, n))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    print(" ".join(f"{k}={v}" for k, v in totals.items()) + f" wall_s={wall:.1f}")


if __name__ == "__main__":
    main()
