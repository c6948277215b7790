#!/usr/bin/env python3
"""`make load`: LOAD_RECORDS generated logs a topic (three topics) through a
tansu broker, `logpipe demo`'s event source mappings and functions, into a
`logpipe cassandra` node, each its own process on loopback.

Fails (exit 1) unless the demo accounts for every record exactly
(produced == written + dead-lettered, per topic and in all, dead letters
as many as the generator made bad, nothing given up, no failed delivery)
and the pipeline process's peak RSS stays under LOAD_MAX_RSS_MB. Prints
the figures, and writes them to LOAD_DIR/load.json.
"""

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tansu_binary():
    for d in os.environ.get("PATH", "").split(os.pathsep) + [str(Path.home() / ".cargo/bin")]:
        p = Path(d) / "tansu"
        if p.is_file():
            return str(p)
    sys.exit("tansu not found on PATH or in ~/.cargo/bin: run `make tansu`")


def start(args, **kw):
    # Its own process group (killed whole at the end), no stdin.
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True, **kw)


def stop(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def peak_rss_mb(pid):
    """VmHWM (peak resident set) of a running process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def wait_listening(addr, what, limit=30):
    host, port = addr.rsplit(":", 1)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((host, int(port))) == 0:
                return
        time.sleep(0.05)
    sys.exit(f"{what} did not listen on {addr}")


def main():
    logpipe = os.environ.get("LOGPIPE", "target/release/logpipe")
    per_topic = int(os.environ.get("LOAD_RECORDS", "333334"))
    max_rss = float(os.environ.get("LOAD_MAX_RSS_MB", "1536"))
    out_dir = Path(os.environ.get("LOAD_DIR", "target/load"))
    out_dir.mkdir(parents=True, exist_ok=True)

    kafka = f"127.0.0.1:{free_port()}"
    cql = f"127.0.0.1:{free_port()}"
    env = dict(os.environ)
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    procs = []
    try:
        with open(out_dir / "tansu.log", "wb") as log:
            broker = start(
                [tansu_binary(), "broker", "--listener-url", f"tcp://{kafka}",
                 "--advertised-listener-url", f"tcp://{kafka}",
                 "--storage-engine", "memory://tansu/"],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        procs.append(broker)
        node = start([logpipe, "cassandra", "--listen", cql],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        procs.append(node)
        line = node.stdout.readline().decode()
        if cql not in line:
            sys.exit(f"the CQL node did not start: {line!r}")
        wait_listening(kafka, "tansu")

        started = time.monotonic()
        with open(out_dir / "demo.stderr", "wb") as err:
            demo = subprocess.run(
                [logpipe, "demo", "--kafka", kafka, "--cassandra", cql,
                 "--records", str(per_topic), "--timeout", "40m", "--json"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=env)
        elapsed = time.monotonic() - started
        # The demo is the only child waited for so far: its peak RSS.
        demo_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        node_rss = peak_rss_mb(node.pid)
        broker_rss = peak_rss_mb(broker.pid)
    finally:
        for p in procs:
            stop(p)

    lines = demo.stdout.decode().strip().splitlines()
    if demo.returncode != 0 or not lines:
        sys.exit(f"logpipe demo failed (exit {demo.returncode}); see {out_dir}/demo.stderr")
    s = json.loads(lines[-1])
    total = per_topic * 3
    problems = []

    def check(ok, what):
        if not ok:
            problems.append(what)

    check(s["produced"] == total, f"produced {s['produced']}, not {total}")
    check(s["written"] + s["dead_lettered"] == s["produced"],
          f"written {s['written']} + dead-lettered {s['dead_lettered']} != produced {s['produced']}")
    check(s["failed_deliveries"] == 0, f"{s['failed_deliveries']} failed deliveries")
    check(not s["timed_out"], "timed out")
    for topic, t in s["by_topic"].items():
        check(t["written"] + t["dead_lettered"] == t["produced"] == per_topic,
              f"{topic}: {t}")
        check(t["given_up"] == 0, f"{topic}: {t['given_up']} given up")
        check(t["written"] == t["expected_written"]
              and t["dead_lettered"] == t["expected_dead_lettered"]
              and t["accounted_for"], f"{topic}: not as generated: {t}")
    check(s.get("ok") is True, "the demo says not ok")
    check(demo_rss <= max_rss, f"pipeline peak RSS {demo_rss:.0f} MiB over {max_rss:.0f} MiB")

    figures = {
        "records": s["produced"],
        "written": s["written"],
        "dead_lettered": s["dead_lettered"],
        "lost": s["produced"] - s["written"] - s["dead_lettered"],
        "records_per_second": round(s["records_per_second"]),
        "batch_latency_ms": s["batch_latency_ms"],
        "elapsed_seconds": round(elapsed, 1),
        "peak_rss_mb": {"pipeline": round(demo_rss), "cql_node": round(node_rss or 0),
                        "tansu": round(broker_rss or 0)},
        "max_pipeline_rss_mb": max_rss,
        "ok": not problems,
    }
    (out_dir / "load.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    if problems:
        print("load: FAILED\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"load: {s['produced']:,} records reconciled; pipeline peak RSS {demo_rss:.0f} MiB")


if __name__ == "__main__":
    main()
