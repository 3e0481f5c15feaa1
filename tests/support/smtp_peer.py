#!/usr/bin/python3
"""The SMTP peer of the notifier's email tests: Debian's aiosmtpd on 127.0.0.1:PORT.

Every message it accepts is written to OUT as N.eml (the bytes as received, dot-stuffing
undone) and then N.json, a summary made with Python's `email` package (policy.default): the
envelope, the EHLO name, whether it came over TLS and who authenticated, the decoded headers, the text and
HTML bodies, each attachment's name, type, size and bytes (base64), the parser's defects, and
the longest line. Started and killed by tests/support/smtp_peer.cpp; runs until killed.

  smtp_peer.py --port P --out DIR [--tls none|starttls|implicit --cert C --key K]
               [--auth off|on|login-only] [--refuse none|rcpt|data|data-transient]
               [--stall none|greeting|data]

--auth on: AUTH PLAIN and LOGIN (user "netpulse", password "s3cret pass") required before MAIL;
offered over TLS only, except with --tls none. --refuse rcpt: 550 to every recipient whose
local part starts with "nobody"; data: 554 after the message; data-transient: 451 after it.
--stall greeting: accept connections and never say a word; data: never answer the message.
"""

import argparse
import asyncio
import base64
import email
import email.policy
import json
import os
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER = b"netpulse"
PASSWORD = b"s3cret pass"


def summarize(raw, envelope, session):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    lines = raw.split(b"\r\n")
    summary = {
        "mail_from": envelope.mail_from,
        "rcpt_tos": list(envelope.rcpt_tos),
        "helo": session.host_name,
        "tls": session.ssl is not None,
        "auth_user": session.auth_data.login.decode() if session.auth_data else None,
        "headers": {k.lower(): str(v) for k, v in msg.items()},
        "header_names": [k for k in msg.keys()],
        "content_type": msg.get_content_type(),
        "defects": [type(d).__name__ for d in msg.defects],
        "max_line": max(len(line) for line in lines),
        "bare_lf": b"\n" in raw.replace(b"\r\n", b""),
        "text": None,
        "html": None,
        "attachments": [],
    }
    for part in msg.walk():
        summary["defects"] += [type(d).__name__ for d in part.defects]
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    if plain is not None:
        summary["text"] = plain.get_content()
    if html is not None:
        summary["html"] = html.get_content()
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True) or b""
        summary["attachments"].append({
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "size": len(payload),
            "base64": base64.b64encode(payload).decode(),
        })
    return summary


class Handler:
    def __init__(self, out, refuse, stall):
        self.out, self.refuse, self.stall = out, refuse, stall
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse == "rcpt" and address.startswith("nobody"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.stall == "data":
            await asyncio.sleep(3600)
        if self.refuse == "data":
            return "554 5.7.1 Message rejected: content policy"
        if self.refuse == "data-transient":
            return "451 4.3.0 Mail server temporarily unavailable, try again later"
        self.count += 1
        base = os.path.join(self.out, str(self.count))
        raw = envelope.original_content
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(summarize(raw, envelope, session), f)
        os.rename(base + ".json.tmp", base + ".json")
        return f"250 2.0.0 Ok: queued as NP{self.count:04d}"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER
          and auth_data.password == PASSWORD)
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


async def stall_forever(reader, writer):
    await asyncio.sleep(3600)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--auth", choices=["off", "on", "login-only"], default="off")
    parser.add_argument("--refuse", choices=["none", "rcpt", "data", "data-transient"],
                        default="none")
    parser.add_argument("--stall", choices=["none", "greeting", "data"], default="none")
    args = parser.parse_args()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    if args.stall == "greeting":
        server = loop.run_until_complete(
            asyncio.start_server(stall_forever, "127.0.0.1", args.port))
    else:
        handler = Handler(args.out, args.refuse, args.stall)
        options = {"hostname": "smtp.test", "loop": loop}
        if args.tls == "starttls":
            options["tls_context"] = context
        if args.auth != "off":
            options["authenticator"] = authenticator
            options["auth_required"] = True
            options["auth_require_tls"] = args.tls == "starttls"
            if args.auth == "login-only":
                options["auth_exclude_mechanism"] = ["PLAIN"]

        def factory():
            return SMTP(handler, **options)

        server = loop.run_until_complete(loop.create_server(
            factory, "127.0.0.1", args.port,
            ssl=context if args.tls == "implicit" else None))
    try:
        loop.run_until_complete(server.serve_forever())
    finally:
        loop.close()


if __name__ == "__main__":
    main()
