#!/usr/bin/env python3
"""`make load`: LOAD_RECORDS generated logs a topic (three topics) through a
real Apache Kafka broker, `logpipe demo`'s event source mappings and
functions, into a real Apache Cassandra node, each its own process on
loopback.

The servers are the test suite's (`logpipe-testkit`, jars installed by
`make servers`): the script starts one Kafka and one Cassandra with
`logpipe-servers up kafka|cassandra --port 0 --dir D` (a free port each,
data under LOAD_DIR, removed after a run that passed), or uses those named
by LOGPIPE_TEST_KAFKA / LOGPIPE_TEST_CASSANDRA when set. It fails (exit 1),
with logpipe-servers' words naming `make servers`, when the jars are not
installed: it never skips.

Fails (exit 1) unless the demo accounts for every record exactly
(produced == written + dead-lettered, per topic and in all, dead letters
as many as the generator made bad, nothing given up, no failed delivery)
and the pipeline process's peak RSS stays under LOAD_MAX_RSS_MB (the
servers are JVMs of their own, measured but not counted). Prints the
figures, and writes them to LOAD_DIR/load.json.
"""

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


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
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def peak_rss_mb(pid):
    """VmHWM (peak resident set) of a running process, MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def children(pid):
    """The child processes of `pid` (of every thread of it)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def launch_server(servers_bin, kind, out_dir):
    """Starts `logpipe-servers up KIND` on a free port with its data in
    out_dir/KIND; returns the process and its output file."""
    # Absolute: Cassandra reads its configuration through a file:// URL.
    data = (out_dir / kind).resolve()
    shutil.rmtree(data, ignore_errors=True)
    log_path = out_dir / f"{kind}.out"
    with open(log_path, "wb") as log:
        p = start([servers_bin, "up", kind, "--port", "0", "--dir", str(data)],
                  stdout=log, stderr=subprocess.STDOUT)
    return p, log_path


def wait_serving(kind, p, log_path, limit=240):
    """Waits for `logpipe-servers up` to say it serves; returns the address
    it names, or fails with its output when it exits or takes longer than
    `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        serving = re.search(r" serving (?:CQL )?on (\S+)", text)
        if serving:
            return serving.group(1)
        if p.poll() is not None:
            sys.exit(f"load: {kind} did not start (exit {p.returncode}):\n{text[-3000:]}")
        time.sleep(0.2)
    sys.exit(f"load: {kind} did not serve within {limit} s; see {log_path}")


def main():
    logpipe = os.environ.get("LOGPIPE", "target/release/logpipe")
    servers_bin = os.environ.get("LOGPIPE_SERVERS", "target/debug/logpipe-servers")
    per_topic = int(os.environ.get("LOAD_RECORDS", "333334"))
    max_rss = float(os.environ.get("LOAD_MAX_RSS_MB", "2048"))
    out_dir = Path(os.environ.get("LOAD_DIR", "target/load"))
    keyspace = os.environ.get("LOAD_KEYSPACE", f"load_{os.getpid()}")
    out_dir.mkdir(parents=True, exist_ok=True)

    servers = {"cassandra": os.environ.get("LOGPIPE_TEST_CASSANDRA") or None,
               "kafka": os.environ.get("LOGPIPE_TEST_KAFKA") or None}
    if not all(servers.values()) and not Path(servers_bin).is_file():
        sys.exit(f"load: {servers_bin} not found: run `make servers-bin`")
    env = dict(os.environ)
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    procs = {}
    started_servers = time.monotonic()
    try:
        # Both JVMs start at once.
        logs = {}
        for name in [name for name, addr in servers.items() if not addr]:
            procs[name], logs[name] = launch_server(servers_bin, name, out_dir)
        for name, p in procs.items():
            servers[name] = wait_serving(name, p, logs[name])
        kafka, cql = servers["kafka"], servers["cassandra"]
        servers_seconds = time.monotonic() - started_servers

        started = time.monotonic()
        with open(out_dir / "demo.stderr", "wb") as err:
            demo = subprocess.run(
                [logpipe, "demo", "--kafka", kafka, "--cassandra", cql,
                 "--keyspace", keyspace,
                 "--records", str(per_topic), "--timeout", "40m", "--json"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=env)
        elapsed = time.monotonic() - started
        # The demo is the only child waited for so far: its peak RSS.
        demo_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        server_rss = {}
        for name, p in procs.items():
            jvms = [peak_rss_mb(c) for c in children(p.pid)]
            server_rss[name] = max([r for r in jvms if r] or [0])
    finally:
        for p in procs.values():
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
        "servers_start_seconds": round(servers_seconds, 1),
        "kafka": kafka,
        "cassandra": cql,
        "keyspace": keyspace,
        "peak_rss_mb": {"pipeline": round(demo_rss),
                        **{k: round(v) for k, v in server_rss.items()}},
        "max_pipeline_rss_mb": max_rss,
        "ok": not problems,
    }
    (out_dir / "load.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    if problems:
        print("load: FAILED\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    # The servers' data (a million rows) is not kept after a run that passed.
    for name in procs:
        shutil.rmtree(out_dir / name, ignore_errors=True)
    print(f"load: {s['produced']:,} records reconciled; pipeline peak RSS {demo_rss:.0f} MiB")


if __name__ == "__main__":
    main()
