#!/usr/bin/env python3
"""A webhook receiver for the benchmarks (issue 25): answers every HTTP/1.1 request 204 No Content
(keep-alive), counts them, and keeps the count in a file, so alerts can be delivered for real
without a receiver slower than the server it measures. Loopback only.

    scripts/bench/webhook-sink.py PORT_FILE COUNT_FILE

Listens on 127.0.0.1 on a free port and writes the port to PORT_FILE once it listens; rewrites
COUNT_FILE (the number of requests answered) every 0.2 s and at exit (SIGTERM, SIGINT).
"""
import asyncio
import os
import signal
import sys


class Sink:
    def __init__(self, count_file):
        self.count_file = count_file
        self.count = 0
        self.written = -1

    def flush(self):
        if self.count != self.written:
            temp = self.count_file + ".tmp"
            with open(temp, "w") as f:
                f.write(f"{self.count}\n")
            os.replace(temp, self.count_file)
            self.written = self.count

    async def handle(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                chunked = False
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value.strip())
                    elif name == b"transfer-encoding" and b"chunked" in value.lower():
                        chunked = True
                if chunked:
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                        await reader.readexactly(size + 2)
                        if size == 0:
                            break
                elif length:
                    await reader.readexactly(length)
                self.count += 1
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.close()

    async def run(self, port_file):
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with open(port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.replace(port_file + ".tmp", port_file)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        self.flush()
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 0.2)
            except asyncio.TimeoutError:
                pass
            self.flush()
        server.close()
        self.flush()


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: webhook-sink.py PORT_FILE COUNT_FILE")
    asyncio.run(Sink(sys.argv[2]).run(sys.argv[1]))


if __name__ == "__main__":
    main()
