"""Times the reference handler (handler.py) one invocation at a time, the way
Lambda would bill it: each invocation is json.loads of the event's bytes
(what the Python runtime does before calling a handler) plus handle().

Usage: python3 timings.py [--invocations N] EVENT.json [EVENT.json ...]
Runs N passes over the files (each file is one invocation per pass) and
prints one JSON object:
{"records": R, "written": W, "dead_lettered": D,          (one pass)
 "seconds": [[s, ...], ...],   (a list per file: its N invocation times)
 "peak_rss_kib": K}            (the process's peak RSS)
"""
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import handler  # noqa: E402


def main():
    args = sys.argv[1:]
    invocations = 1
    if args[:1] == ["--invocations"]:
        if len(args) < 2:
            sys.exit("--invocations needs a value")
        invocations = int(args[1])
        args = args[2:]
    if not args or invocations < 1:
        sys.exit("usage: timings.py [--invocations N] EVENT.json [EVENT.json ...]")
    payloads = []
    for path in args:
        with open(path, "rb") as f:
            payloads.append(f.read())
    seconds = [[] for _ in payloads]
    totals = {"records": 0, "written": 0, "dead_lettered": 0}
    for n in range(invocations):
        for i, payload in enumerate(payloads):
            start = time.perf_counter()
            summary = handler.handle(json.loads(payload))
            seconds[i].append(time.perf_counter() - start)
            if n == 0:
                for k in totals:
                    totals[k] += summary[k]
    totals["seconds"] = seconds
    totals["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
