"""A real SMTP server on loopback for the SMTP client's tests (Tests/SMTPTests), on aiosmtpd.

    test-server.py certificates DIR     a throwaway CA; certificates it signs for localhost,
                                        127.0.0.1 and ::1 (server.pem) and for the name localhost
                                        alone (localhost.pem); a second CA that signs nothing
    test-server.py serve DIR [options]  serves until killed; writes DIR/port once listening

Run with the Python of the venv `scripts/smtp/test-server prepare` makes (aiosmtpd pinned).

What the server received goes to DIR, for the tests to read:
- DIR/commands.jsonl: each command as it arrives, {"command": "RCPT", "argument": "<a@b>",
  "tls": true} (AUTH's argument is its mechanism only);
- DIR/message-N.json: each accepted message: the envelope, the raw bytes (base64) and the
  message as Python's `email` package parses it (headers decoded, each part decoded), written
  before the 250 reply, so it is there when the client returns.

Modes (--mode), the cases that go wrong:
  accept          everything accepted
  tempfail-once   the first MAIL FROM gets 451, later ones are accepted
  reject-rcpt     RCPT TO a local part starting with "nobody" gets 550; others accepted
  reject-data     the end of DATA gets 554
  refuse-auth     AUTH gets 535
  stall-data      the final "." is never answered
  silent          accepts connections and never says anything (no greeting)
  starttls-inject the reply to STARTTLS is followed by a second reply in the same packet
"""

import argparse
import asyncio
import base64
import email
import email.policy
import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

USER = "kiothc"
PASSWORD = "p@ss:w/rd é"


def certificates(directory: Path) -> None:
    """The CA, the server's certificate and key, and an unrelated CA (openssl)."""
    directory.mkdir(parents=True, exist_ok=True)

    def openssl(*arguments: str) -> None:
        subprocess.run(["openssl", *arguments], check=True, cwd=directory, timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    for name in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem",
                "-days", "2", "-subj", f"/CN=kiothc test {name}", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    # NIOSSL accepts a certificate whose IP address SAN is the address connected to, whatever name
    # was asked for; "localhost.pem" has no IP address, for the tests of name checking.
    for name, names in (("server", "DNS:localhost,IP:127.0.0.1,IP:::1"), ("localhost", "DNS:localhost")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=localhost")
        (directory / f"{name}.ext").write_text(
            f"subjectAltName={names}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")


def parsed(raw: bytes) -> dict:
    """The message as Python's email package reads it: an independent check of the client's."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    headers: dict = {}
    for name, value in message.items():
        headers.setdefault(name.lower(), []).append(str(value))

    def addresses(name: str) -> list:
        header = message[name]
        if header is None:
            return []
        return [{"display_name": a.display_name, "addr_spec": a.addr_spec} for a in header.addresses]

    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        parts.append({
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "transfer_encoding": part.get("Content-Transfer-Encoding"),
            "content": part.get_content(),
        })
    date = message["Date"]
    defects = [type(d).__name__ for d in message.defects]
    for part in message.walk():
        defects += [type(d).__name__ for d in part.defects]
    return {
        "headers": headers,
        "from": addresses("From"),
        "to": addresses("To"),
        "cc": addresses("Cc"),
        "subject": str(message["Subject"]) if message["Subject"] is not None else None,
        "date": date.datetime.isoformat() if date is not None and date.datetime is not None else None,
        "content_type": message.get_content_type(),
        "parts": parts,
        "defects": defects,
    }


def serve(directory: Path, mode: str, tls: str, auth: list, cert: Path, key: Path) -> None:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    directory.mkdir(parents=True, exist_ok=True)
    log = open(directory / "commands.jsonl", "a", buffering=1)
    count = {"messages": 0, "mail": 0}

    context = None
    if tls in ("starttls", "implicit"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))

    class Handler:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            session.host_name = hostname
            if not auth:
                responses = [r for r in responses if not r[4:].startswith("AUTH")]
            return responses

        async def handle_MAIL(self, server, session, envelope, address, options):
            count["mail"] += 1
            if mode == "tempfail-once" and count["mail"] == 1:
                return "451 4.3.0 Try again later"
            envelope.mail_from = address
            envelope.mail_options.extend(options)
            return "250 OK"

        async def handle_RCPT(self, server, session, envelope, address, options):
            if mode == "reject-rcpt" and address.startswith("nobody"):
                return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            if mode == "stall-data":
                await asyncio.sleep(3600)
            if mode == "reject-data":
                return "554 5.6.0 Message refused as spam"
            count["messages"] += 1
            raw = envelope.original_content
            record = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "tls": server._tls_protocol is not None or tls == "implicit",
                "authenticated_as": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
                "raw_base64": base64.b64encode(raw).decode(),
                "parsed": parsed(raw),
            }
            path = directory / f"message-{count['messages']}.json"
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(record, ensure_ascii=False, indent=1))
            os.rename(temporary, path)
            return f"250 2.0.0 Ok: queued as KIOTHC{count['messages']}"

    def authenticator(server, session, envelope, mechanism, auth_data):
        good = (mode != "refuse-auth" and isinstance(auth_data, LoginPassword)
                and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode())
        return AuthResult(success=good, handled=False, auth_data=auth_data)

    class RecordingSMTP(SMTP):
        def record(self, command: str, argument: str) -> None:
            log.write(json.dumps({"command": command, "argument": argument,
                                  "tls": self._tls_protocol is not None or tls == "implicit"}) + "\n")

        async def smtp_EHLO(self, arg):
            self.record("EHLO", arg)
            await super().smtp_EHLO(arg)

        async def smtp_HELO(self, arg):
            self.record("HELO", arg)
            await super().smtp_HELO(arg)

        async def smtp_STARTTLS(self, arg):
            self.record("STARTTLS", arg)
            if mode == "starttls-inject":
                # The 220 and a forged reply in one write, as a man in the middle would.
                self.transport.write(b"220 Ready to start TLS\r\n250 injected\r\n")
                return
            await super().smtp_STARTTLS(arg)

        async def smtp_AUTH(self, arg):
            self.record("AUTH", (arg or "").split(" ")[0])
            await super().smtp_AUTH(arg)

        async def smtp_MAIL(self, arg):
            self.record("MAIL", arg)
            await super().smtp_MAIL(arg)

        async def smtp_RCPT(self, arg):
            self.record("RCPT", arg)
            await super().smtp_RCPT(arg)

        async def smtp_DATA(self, arg):
            self.record("DATA", arg)
            await super().smtp_DATA(arg)

        async def smtp_QUIT(self, arg):
            self.record("QUIT", arg)
            await super().smtp_QUIT(arg)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if mode == "silent":
            async def never_greet(reader, writer):
                await reader.read()
                writer.close()
            server = await asyncio.start_server(never_greet, "127.0.0.1", 0)
        else:
            excluded = [m for m in ("PLAIN", "LOGIN") if m not in auth]

            def factory():
                return RecordingSMTP(
                    Handler(), hostname="kiothc-test-smtp", loop=loop,
                    tls_context=context if tls == "starttls" else None,
                    authenticator=authenticator, auth_exclude_mechanism=excluded,
                    auth_require_tls=tls == "starttls")
            server = await loop.create_server(factory, "127.0.0.1", 0, ssl=context if tls == "implicit" else None)
        port = server.sockets[0].getsockname()[1]
        (directory / "port.tmp").write_text(str(port))
        os.rename(directory / "port.tmp", directory / "port")
        async with server:
            await server.serve_forever()

    asyncio.run(main())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    making = commands.add_parser("certificates")
    making.add_argument("directory", type=Path)
    serving = commands.add_parser("serve")
    serving.add_argument("directory", type=Path)
    serving.add_argument("--mode", default="accept",
                         choices=["accept", "tempfail-once", "reject-rcpt", "reject-data", "refuse-auth",
                                  "stall-data", "silent", "starttls-inject"])
    serving.add_argument("--tls", default="starttls", choices=["starttls", "implicit", "none"])
    serving.add_argument("--auth", default="PLAIN,LOGIN", help="mechanisms offered, comma-separated; 'none' for no AUTH")
    serving.add_argument("--cert", type=Path)
    serving.add_argument("--key", type=Path)
    options = parser.parse_args()
    if options.command == "certificates":
        certificates(options.directory)
    else:
        mechanisms = [] if options.auth == "none" else options.auth.split(",")
        serve(options.directory, options.mode, options.tls, mechanisms, options.cert, options.key)
    sys.exit(0)
