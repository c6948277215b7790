"""Rewrites Kafka event files the way a Python producer and a Python capture
tool would have written them: every record value is decoded, parsed with
json.loads and written again with json.dumps' defaults (", " and ": "
between items, non-ASCII escaped as \\uXXXX), its keys in a shuffled order
(at every level), and the whole event is written back with json.dump, so
the event's own JSON has the same spaces.

What a record means is kept: a value that is not base64, not UTF-8 or not
JSON is left as it is; whole numbers stay whole numbers, except the
metadata values of activity logs, the one place where any JSON number is
allowed, which become floats (3 -> 3.0). The benchmark checks that
`logpipe replay --cassandra none` counts the same outcomes on both sets.

Usage: python3 dumps.py OUT_DIR EVENT.json [EVENT.json ...]
Writes OUT_DIR/<name of each EVENT> and prints one JSON object:
{"files": [...], "values_rewritten": N, "values_kept": K, "bytes_in": .., "bytes_out": ..}.
"""
import base64
import binascii
import json
import os
import random
import sys

SEED = 20251205
ACTIVITY_TOPIC = "user_activity_logs"


def shuffled(value, rng):
    """The same JSON value with the keys of every object in a random order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


def floats_in_metadata(log):
    """Activity metadata: whole-number values as floats (bools are left alone)."""
    md = log.get("metadata")
    if isinstance(md, dict):
        for k, v in md.items():
            if isinstance(v, int) and not isinstance(v, bool):
                md[k] = float(v)


def rewrite_value(value, topic, rng):
    """The value re-encoded, or None when it is not base64 JSON (kept as is)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
        log = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):
        return None
    if topic == ACTIVITY_TOPIC and isinstance(log, dict):
        floats_in_metadata(log)
    text = json.dumps(shuffled(log, rng))
    return base64.b64encode(text.encode("ascii")).decode("ascii")


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: dumps.py OUT_DIR EVENT.json [EVENT.json ...]")
    out_dir, inputs = sys.argv[1], sys.argv[2:]
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(SEED)
    summary = {"files": [], "values_rewritten": 0, "values_kept": 0, "bytes_in": 0, "bytes_out": 0}
    for path in inputs:
        with open(path, "rb") as f:
            payload = f.read()
        event = json.loads(payload)
        for batch in event["records"].values():
            for rec in batch:
                new = rewrite_value(rec.get("value"), rec.get("topic"), rng)
                if new is None:
                    summary["values_kept"] += 1
                else:
                    rec["value"] = new
                    summary["values_rewritten"] += 1
        out = os.path.join(out_dir, os.path.basename(path))
        with open(out, "w", encoding="ascii") as f:
            json.dump(event, f)
        summary["files"].append(out)
        summary["bytes_in"] += len(payload)
        summary["bytes_out"] += os.path.getsize(out)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
