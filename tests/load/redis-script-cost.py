#!/usr/bin/env python3
"""What one rate-limit script call costs Redis, measured on a real redis-server.

Reads the acquire script from src/AiEdge.Middleware.Redis/Internal/RedisRateLimitStore.cs, sends it calls shaped as
the store sends them under load (N requests of one rule on one hot bucket, each its own batch), and prints the
script's own time per call (INFO commandstats) and Redis's whole CPU per call (INFO cpu: parsing the arguments,
the script, the reply).

    tests/load/redis-script-cost.py [--port 6379] [--decisions 25] [--calls 4000]

Needs a redis-server on 127.0.0.1 that may be flushed (start one with `redis-server --port 6399 --save ""`).
"""
import argparse
import os
import re
import socket
import struct

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=6379)
parser.add_argument("--decisions", type=int, default=25)
parser.add_argument("--calls", type=int, default=4000)
options = parser.parse_args()

source = open(os.path.join(root, "src/AiEdge.Middleware.Redis/Internal/RedisRateLimitStore.cs")).read()


def raw(pattern):
    """The text of a C# raw string literal matched by pattern, its indentation removed as the compiler does."""
    lines = re.search(pattern, source, re.S).group(1).split("\n")
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines)


# The script is the shared prelude (ScriptPrelude) and a newline, then the acquire script's own text.
script = raw(r'ScriptPrelude = """\n(.*?)\n\s*""" \+ "\\n";') + "\n" + raw(r'AcquireScript = new\("[^"]+", ScriptPrelude \+ """\n(.*?)\n\s*"""\);')

connection = socket.create_connection(("127.0.0.1", options.port))
replies = connection.makefile("rb")


def command(*args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        arg = arg if isinstance(arg, bytes) else str(arg).encode()
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def reply():
    line = replies.readline()
    if line[:1] == b"*":
        return [reply() for _ in range(int(line[1:]))]
    if line[:1] == b"$":
        length = int(line[1:])
        return None if length < 0 else replies.read(length + 2)[:-2]
    if line[:1] == b"-":
        raise SystemExit(line.decode().strip())
    return line.strip()


def call(*args):
    connection.sendall(command(*args))
    return reply()


def info(section):
    text = call("INFO", section).decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


sha = call("SCRIPT", "LOAD", script)
call("FLUSHALL")
call("CONFIG", "RESETSTAT")
# One rule: 1,000,000 requests per second, burst 1,000,000 (every decision admits), nodelay. The ARGV layout is the
# one documented above the script: now ('' for TIME), batches, rules, 5 values per rule, the packed batches.
n = options.decisions
packed = b"".join(struct.pack("<HHHq", 1, 1, 1, 1000) for _ in range(n))
one = command("EVALSHA", sha, 1, "aiedge:rl:{bench}:k", "", n, 1, 0, 1000000, 1, 1000000000, -1, packed)
before = info("cpu")
sent = 0
while sent < options.calls:
    burst = min(10, options.calls - sent)
    connection.sendall(one * burst)
    for _ in range(burst):
        reply()
    sent += burst
after = info("cpu")
stats = info("commandstats")["cmdstat_evalsha"]
per_call = float(re.search(r"usec_per_call=([0-9.]+)", stats).group(1))
cpu = sum(float(after[k]) - float(before[k]) for k in ("used_cpu_user", "used_cpu_sys")) * 1e6 / options.calls
print(f"{n} decisions per call: script {per_call:.1f} µs per call, Redis CPU {cpu:.1f} µs per call ({cpu / n:.2f} µs per decision)")
