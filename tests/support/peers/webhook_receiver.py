#!/usr/bin/env python3
"""A scripted HTTP receiver for the notifier's tests: the remote end of webhooks and of the
chat, paging and SMS APIs, on 127.0.0.1 only.

    webhook_receiver.py DIR [ANSWER ...]

Listens on 127.0.0.1 on a port the OS picks and writes it to DIR/port (atomically, once
listening). Each request is answered by the next ANSWER (the last one repeats; none: 200):

    200, 400, 500, 503 ...   that status, body {"ok": true} for 2xx, else {"error": "<status>"}
    429:SECONDS              429 with Retry-After: SECONDS
    sleep:SECONDS            no answer for SECONDS (the client should time out), then 200
    redirect:URL             302 to URL
    body:STATUS:TEXT         that status with TEXT as the body (application/json)

Every request is appended to DIR/requests.jsonl as one JSON object per line, written before the
answer: {"n", "at" (Unix seconds, float), "method", "path", "headers" {lower-case name: value},
"body" (text), "answer"}. Exits on SIGTERM. No third-party modules: Debian's python3 only.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: webhook_receiver.py DIR [ANSWER ...]")
    out_dir = sys.argv[1]
    answers = sys.argv[2:] or ["200"]
    lock = threading.Lock()
    count = [0]
    log = open(os.path.join(out_dir, "requests.jsonl"), "a", encoding="utf-8")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > 8 * 1024 * 1024:
                self.send_error(413)
                return
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            with lock:
                n = count[0]
                count[0] += 1
                answer = answers[min(n, len(answers) - 1)]
                log.write(json.dumps({
                    "n": n, "at": time.time(), "method": self.command, "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body, "answer": answer}) + "\n")
                log.flush()
            status, extra, text = 200, {}, None
            if answer.startswith("sleep:"):
                time.sleep(float(answer.split(":", 1)[1]))
            elif answer.startswith("429:"):
                status, extra = 429, {"Retry-After": answer.split(":", 1)[1]}
            elif answer.startswith("redirect:"):
                status, extra = 302, {"Location": answer.split(":", 1)[1]}
            elif answer.startswith("body:"):
                _, code, text = answer.split(":", 2)
                status = int(code)
            else:
                status = int(answer)
            if text is None:
                text = json.dumps({"ok": True} if 200 <= status < 300 else {"error": str(status)})
            data = text.encode("utf-8")
            try:
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout): nothing to answer

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = os.path.join(out_dir, "port.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, os.path.join(out_dir, "port"))
    server.serve_forever()


if __name__ == "__main__":
    main()
