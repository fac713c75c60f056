#!/usr/bin/env python3
"""How this machine's disk answers the fdatasync pattern of fsync durability (BENCHMARKS.md,
"Issue 8, fourth session"): a loop writing CHUNK bytes and calling fdatasync, for SECONDS, in a
directory on the file system under test. Prints syncs per second and the slowest sync of each
second, then p50/p99/max.

  disk-sync-probe.py append    [--dir D] [--chunk 4096] [--seconds 12] [--neighbour]
  disk-sync-probe.py overwrite ...   # into a zero-filled file synced first (no size change)
  disk-sync-probe.py ahead     ...   # zeros kept 1 MiB ahead, not synced (the journal today)

--neighbour runs a second process appending 4 MB/s to 1,000 files (no sync) meanwhile, as the
server's per-check files do under load.
"""
import argparse, multiprocessing, os, shutil, tempfile, time

MIB = 1 << 20


def neighbour(directory, seconds, rate=4_000_000):
    fds = [os.open(os.path.join(directory, f"{i}.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) for i in range(1000)]
    line, n, start = b"x" * 200 + b"\n", 0, time.monotonic()
    while time.monotonic() - start < seconds:
        for _ in range(100):
            os.write(fds[n % 1000], line)
            n += 1
        ahead = n * len(line) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["append", "overwrite", "ahead"])
    parser.add_argument("--dir", default=os.environ.get("KIOTHC_BENCH_DIR") or tempfile.gettempdir())
    parser.add_argument("--chunk", type=int, default=4096)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--neighbour", action="store_true")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="disk-sync-probe-", dir=args.dir)
    try:
        other = None
        if args.neighbour:
            other = multiprocessing.Process(target=neighbour, args=(work, args.seconds + 1))
            other.start()
            time.sleep(0.5)
        fd = os.open(os.path.join(work, "probe"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        size = 256 * MIB
        if args.mode == "overwrite":
            zeros = bytes(MIB)
            for offset in range(0, size, MIB):
                os.pwrite(fd, zeros, offset)
            os.fsync(fd)
        data, offset, prepared = os.urandom(args.chunk), 0, 0
        latencies, second, count, slowest, start = [], 0, 0, 0.0, time.monotonic()
        while time.monotonic() - start < args.seconds:
            os.pwrite(fd, data, offset)
            offset = (offset + args.chunk) % size if args.mode == "overwrite" else offset + args.chunk
            began = time.monotonic()
            os.fdatasync(fd)
            took = time.monotonic() - began
            if args.mode == "ahead" and prepared - offset < MIB // 4:
                prepared = max(prepared, offset) + MIB
                os.pwrite(fd, bytes(MIB), prepared - MIB)
            latencies.append(took)
            count, slowest = count + 1, max(slowest, took)
            if int(time.monotonic() - start) > second:
                print(f"second {second}: {count} syncs, slowest {slowest * 1000:.1f} ms", flush=True)
                second, count, slowest = int(time.monotonic() - start), 0, 0.0
        os.close(fd)
        if other:
            other.join()
        latencies.sort()
        print(f"{args.mode}{' + neighbour' if args.neighbour else ''}: {len(latencies)} syncs, p50 "
              f"{latencies[len(latencies) // 2] * 1000:.2f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1000:.2f} ms, "
              f"max {latencies[-1] * 1000:.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
