#!/usr/bin/env python3
"""Builds the sample logs (data/sample_logs/) and the AWS Kafka event
fixtures (fixtures/events/) from the readable record lists below.

Deterministic: running it twice writes the same bytes. `make fixtures` runs
it; `make golden` then refreshes the expected table dumps, whose diff is
reviewed like code.
"""
import base64
import json
import random
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
rng = random.Random(20261125)


def uid():
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


BASE_MS = 1_795_615_200_000  # 2026-11-25T14:00:00Z
USERS = [f"user-{n:04d}" for n in range(1, 9)]
UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "okhttp/4.12.0",
]


def iso(ms, offset_minutes=0):
    from datetime import datetime, timedelta, timezone

    tz = timezone(timedelta(minutes=offset_minutes))
    t = datetime.fromtimestamp(ms / 1000, tz)
    s = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}"
    return s + ("Z" if offset_minutes == 0 else t.strftime("%z")[:3] + ":" + t.strftime("%z")[3:])


def auth_log(i):
    ms = BASE_MS + i * 61_013
    ok = i % 4 != 3
    log = {
        "event_id": uid(),
        "user_id": USERS[i % len(USERS)],
        "timestamp": iso(ms) if i % 3 else ms,
        "event_type": ["login", "logout", "token_refresh", "login_failed", "mfa_challenge", "password_reset"][i % 6],
        "success": ok,
        "ip_address": f"203.0.113.{10 + i}" if i % 5 else f"2001:db8::{i:x}",
        "auth_method": ["password", "oauth", "sso", "mfa", "api_key"][i % 5],
        "user_agent": UAS[i % len(UAS)],
        "geo": {"country": ["US", "DE", "BR", "JP"][i % 4], "city": ["Austin", "Berlin", "Recife", "Osaka"][i % 4]},
    }
    if not ok:
        log["failure_reason"] = "invalid_password"
    return log


def session_log(i):
    ms = BASE_MS + i * 45_007
    kind = ["session_start", "heartbeat", "session_end"][i % 3]
    log = {
        "session_id": uid(),
        "user_id": USERS[i % len(USERS)],
        "timestamp": iso(ms, 60) if i % 2 else iso(ms),
        "event_type": kind,
        "ip_address": f"198.51.100.{20 + i}",
        "device": {"type": ["desktop", "mobile", "tablet"][i % 3], "os": ["Windows", "iOS", "Android"][i % 3], "browser": ["Chrome", "Safari", "Firefox"][i % 3]},
    }
    if kind == "session_end":
        log["duration_ms"] = 60_000 * (i + 1)
        log["pages_viewed"] = i + 2
    return log


def activity_log(i):
    ms = BASE_MS + i * 30_011
    action = ["page_view", "click", "search", "add_to_cart", "remove_from_cart", "checkout", "purchase"][i % 7]
    log = {
        "event_id": uid(),
        "user_id": USERS[i % len(USERS)],
        "session_id": uid(),
        "timestamp": iso(ms) if i % 4 else ms,
        "action": action,
        "resource": f"/products/{100 + i}" if action != "search" else "/search?q=boots",
        "duration_ms": 250 * (i + 1),
        "metadata": {"referrer": "https://example.com/", "position": i, "price": "19.90" if i % 2 else 19.5, "in_stock": i % 2 == 0},
    }
    return log


def b64(data):
    return base64.b64encode(data).decode()


def record(topic, partition, offset, value, key=None, raw_value=None, headers=True, timestamp=None):
    """One event record. `value`: a log dict, bytes, or None; `raw_value`
    puts text into the value field as is (for invalid base64); `timestamp`
    replaces the Kafka timestamp (BASE_MS + offset seconds; -1: none)."""
    if raw_value is not None:
        v = raw_value
    elif value is None:
        v = None
    elif isinstance(value, (bytes, bytearray)):
        v = b64(bytes(value))
    else:
        v = b64(json.dumps(value, separators=(",", ":")).encode())
    rec = {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "timestamp": BASE_MS + offset * 1000 if timestamp is None else timestamp,
        "timestampType": "CREATE_TIME",
        "key": b64(key.encode()) if key else None,
        "value": v,
        "headers": [{"content-type": list(b"application/json")}] if headers else [],
    }
    return rec


def event(variant, records):
    grouped = {}
    for r in records:
        grouped.setdefault(f"{r['topic']}-{r['partition']}", []).append(r)
    ev = {"eventSource": variant, "records": grouped}
    if variant == "aws:kafka":
        ev["eventSourceArn"] = "arn:aws:kafka:us-east-1:123456789012:cluster/logpipe/0b4f8f7e-3c1a-4a52-9f65-2f3a5c8d1e21-2"
    ev["bootstrapServers"] = "b-1.logpipe.example.com:9092,b-2.logpipe.example.com:9092"
    return ev


def encode(ev):
    for batch in ev["records"].values():
        for r in batch:
            r["headers"] = [{k: [b - 256 if b > 127 else b for b in v] for k, v in h.items()} for h in r["headers"]]
    return json.dumps(ev, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def with_(log, **changes):
    out = dict(log)
    for k, v in changes.items():
        if v is DROP:
            out.pop(k, None)
        else:
            out[k] = v
    return out


DROP = object()


def auth_event():
    t = "user_auth_logs"
    good = [auth_log(i) for i in range(12)]
    good[1]["event_type"] = "  LOGIN "  # trimmed, lowercased
    good[2]["user_agent"] = "Mozilla/5.0 " + "é" * 300  # 612 bytes: cut to 512 on a char boundary
    good[3]["auth_method"] = None  # null optional = absent
    good[4]["geo"] = {"country": "de"}  # stored uppercase, city absent
    good[5]["timestamp"] = "2026-11-25T15:30:00.123999+01:00"  # offset, sub-ms dropped
    good[6]["new_field_from_newer_producer"] = {"x": 1}
    base = auth_log(20)
    bad = [
        (None, "empty_value"),
        (b"", "empty_value"),
        ("RAW:!!!not base64!!!", "invalid_base64"),
        (b"{" + b" " * 262_144 + b"}", "too_large"),
        (b'{"user_id":"\xff\xfe"}', "invalid_utf8"),
        (b'{"event_id": "abc", ', "invalid_json"),
        (list(range(12_000)), "not_an_object"),  # 71 KiB: kept whole
        (with_(base, user_id=DROP), "missing_field"),
        (with_(base, success=None), "missing_field"),
        (with_(base, event_id="not-a-uuid"), "invalid_field"),
        (with_(base, timestamp=1_795_615_200), "invalid_field"),  # epoch seconds
        (with_(base, timestamp=1_795_615_200_000.0), "invalid_field"),
        (with_(base, timestamp="2026-11-25T14:00:00"), "invalid_field"),  # no offset
        (with_(base, ip_address="999.1.1.1"), "invalid_field"),
        (with_(base, event_type="sign_in"), "invalid_field"),
        (with_(base, user_id="u" * 129), "invalid_field"),
        (with_(base, failure_reason="x" * 257), "invalid_field"),
        (with_(base, geo={"country": "XX"}), "invalid_field"),
        (with_(base, success="true"), "invalid_field"),
    ]
    recs = []
    off = {0: 100, 1: 200}
    for i, log in enumerate(good):
        p = i % 2
        recs.append(record(t, p, off[p], log, key=log["user_id"]))
        off[p] += 1
    # Kafka timestamps of some bad records: none (-1; the dead letter has a
    # null record_timestamp and day 1970-01-01), and one with milliseconds
    # that float arithmetic on epoch ms reads 1 ms early (stored exactly).
    stamps = {7: -1, 5: BASE_MS + (off[1] + 5) * 1000 + 123}
    for i, (value, _reason) in enumerate(bad):
        p = 1
        ts = stamps.get(i)
        if isinstance(value, str) and value.startswith("RAW:"):
            recs.append(record(t, p, off[p], None, raw_value=value[4:], timestamp=ts))
        elif isinstance(value, list):
            recs.append(record(t, p, off[p], json.dumps(value).encode(), timestamp=ts))
        else:
            recs.append(record(t, p, off[p], value, key="user-bad", timestamp=ts))
        off[p] += 1
    # A record of a topic no function owns.
    recs.append(record("user_payment_logs", 0, 7, auth_log(30), key="user-0001"))
    # A record with an absent key, no headers and no Kafka timestamp (-1):
    # written like any other.
    recs.append(record(t, 0, off[0], auth_log(31), headers=False, timestamp=-1))
    return event("aws:kafka", recs), [r for _, r in bad] + ["wrong_topic"]


def session_event():
    t = "user_session_logs"
    good = [session_log(i) for i in range(9)]
    good[0]["device"] = None
    good[1]["device"] = {"type": "Mobile"}
    good[2]["duration_ms"] = 2_592_000_000  # the maximum
    good[3]["ip_address"] = "::1"
    base = session_log(20)
    bad = [
        with_(base, session_id=DROP),
        with_(base, duration_ms=2_592_000_001),
        with_(base, pages_viewed=1.5),
        with_(base, device="desktop"),
        with_(base, device={"type": "watch"}),
        with_(base, event_type="session_resume"),
        with_(base, user_id=""),
    ]
    recs = []
    for i, log in enumerate(good + bad):
        recs.append(record(t, i % 3, 1000 + i, log, key=log.get("user_id") or "anon"))
    return event("SelfManagedKafka", recs), ["missing_field"] + ["invalid_field"] * 6


def activity_event():
    t = "user_activity_logs"
    good = [activity_log(i) for i in range(10)]
    good[0]["metadata"] = {"price": 1.50, "qty": 3, "big": 12345678901234567890, "exp": 1e21, "flag": False, "note": "tab\there"}
    good[1]["session_id"] = None
    good[2]["metadata"] = {}
    good[3]["resource"] = "r" * 2048
    base = activity_log(20)
    bad = [
        with_(base, metadata={"nested": {"a": 1}}),
        with_(base, metadata={"list": [1, 2]}),
        with_(base, metadata={"nothing": None}),
        with_(base, metadata="k=v"),
        with_(base, resource=""),
        with_(base, resource="r" * 2049),
        with_(base, session_id="1234"),
        with_(base, action="hover"),
        with_(base, duration_ms=-1),
        with_(base, action=DROP),
    ]
    recs = []
    for i, log in enumerate(good + bad):
        recs.append(record(t, i % 2, 5000 + i, log, key=log["user_id"]))
    # metadata numbers keep their JSON text: write this record by hand.
    text = json.dumps(with_(activity_log(40), metadata=DROP))[:-1] + ', "metadata": {"price": 1.50, "ratio": 2.5e-3}}'
    recs.append(record(t, 0, 6000, text.encode(), key="user-0001"))
    return event("aws:SelfManagedKafka", recs), ["invalid_field"] * 9 + ["missing_field"]


def all_topics_event():
    recs = []
    for kind, make in (("user_auth_logs", auth_log), ("user_session_logs", session_log), ("user_activity_logs", activity_log)):
        for i in range(6):
            log = make(100 + i)
            recs.append(record(kind, i % 2, 10 + i, log, key=log["user_id"]))
    return event("aws:kafka", recs), []


def main():
    samples = ROOT / "data" / "sample_logs"
    samples.mkdir(parents=True, exist_ok=True)
    for name, make in (("auth_log.json", auth_log), ("session_log.json", session_log), ("activity_log.json", activity_log)):
        lines = [json.dumps(make(200 + i)) for i in range(25)]
        (samples / name).write_text("\n".join(lines) + "\n")
    out = ROOT / "fixtures" / "events"
    out.mkdir(parents=True, exist_ok=True)
    expected = {}
    for name, build in (
        ("msk_auth_mixed", auth_event),
        ("self_managed_session_mixed", session_event),
        ("self_managed_activity_mixed", activity_event),
        ("msk_all_topics", all_topics_event),
    ):
        ev, reasons = build()
        # Exactly the bytes of the project's event encoder (compact, keys
        # sorted, UTF-8 as is, header bytes as Java's signed bytes); a test
        # of the contract crate encodes each file's records and compares.
        (out / f"{name}.json").write_text(encode(ev) + "\n")
        counts = {}
        for r in reasons:
            counts[r] = counts.get(r, 0) + 1
        total = sum(len(v) for v in ev["records"].values())
        expected[name] = {"records": total, "dead_lettered": len(reasons), "dead_letter_reasons": dict(sorted(counts.items()))}
    (out / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
