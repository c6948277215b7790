"""A reference Python Lambda handler for the same Kafka events, written the
way an idiomatic Python function would be: base64, json, dict checks and
the same transform into rows. It is the baseline the Rust functions are
measured against (`make bench`); it stores nothing.

Usage: python3 handler.py EVENT.json [REPEATS]
Prints one JSON object: records, written, dead_lettered, seconds (best of
REPEATS), records_per_second.
"""
import base64
import binascii
import ipaddress
import json
import sys
import time
import uuid
from datetime import datetime, timezone

MAX_VALUE = 262_144
MIN_MS = 946_684_800_000
MAX_MS = 4_102_444_800_000

AUTH_TYPES = {"login", "logout", "login_failed", "password_reset", "token_refresh", "mfa_challenge"}
AUTH_METHODS = {"password", "oauth", "sso", "mfa", "api_key"}
SESSION_TYPES = {"session_start", "session_end", "heartbeat"}
DEVICE_TYPES = {"desktop", "mobile", "tablet", "other"}
ACTIONS = {"page_view", "click", "search", "add_to_cart", "remove_from_cart", "checkout", "purchase"}
TOPICS = {"user_auth_logs": "auth", "user_session_logs": "session", "user_activity_logs": "activity"}


class Bad(Exception):
    def __init__(self, reason, detail):
        super().__init__(detail)
        self.reason = reason


def req(log, name):
    v = log.get(name)
    if v is None:
        raise Bad("missing_field", f"field `{name}` is required but absent or null")
    return v


def string(name, v):
    if not isinstance(v, str):
        raise Bad("invalid_field", f"field `{name}` must be a string")
    return v


def a_uuid(name, v):
    try:
        return str(uuid.UUID(string(name, v)))
    except ValueError:
        raise Bad("invalid_field", f"field `{name}` is not a UUID")


def enum(name, v, allowed):
    s = string(name, v).strip().lower()
    if s not in allowed:
        raise Bad("invalid_field", f"field `{name}` is not allowed")
    return s


def timestamp(v):
    if isinstance(v, bool) or isinstance(v, float):
        raise Bad("invalid_field", "field `timestamp` has the wrong type")
    if isinstance(v, int):
        ms = v
    else:
        s = string("timestamp", v)
        try:
            t = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            raise Bad("invalid_field", "field `timestamp` is not RFC 3339")
        if t.tzinfo is None:
            raise Bad("invalid_field", "field `timestamp` has no offset")
        ms = int(t.timestamp() * 1000)
    if not MIN_MS <= ms < MAX_MS:
        raise Bad("invalid_field", "field `timestamp` is out of range")
    return ms


def ip(name, v):
    try:
        return str(ipaddress.ip_address(string(name, v)))
    except ValueError:
        raise Bad("invalid_field", f"field `{name}` is not an IP address")


def user_id(log):
    u = string("user_id", req(log, "user_id"))
    if not 1 <= len(u.encode()) <= 128:
        raise Bad("invalid_field", "field `user_id` has a bad length")
    return u


def integer(name, v, hi):
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= hi:
        raise Bad("invalid_field", f"field `{name}` is not an integer in range")
    return v


def common(log):
    ms = timestamp(req(log, "timestamp"))
    day = datetime.fromtimestamp(ms / 1000, timezone.utc).date().isoformat()
    return ms, day


def auth_row(log):
    row = {"event_id": a_uuid("event_id", req(log, "event_id")), "user_id": user_id(log)}
    row["event_time"], row["day"] = common(log)
    row["event_type"] = enum("event_type", req(log, "event_type"), AUTH_TYPES)
    success = req(log, "success")
    if not isinstance(success, bool):
        raise Bad("invalid_field", "field `success` must be a boolean")
    row["success"] = success
    row["ip_address"] = ip("ip_address", req(log, "ip_address"))
    if log.get("auth_method") is not None:
        row["auth_method"] = enum("auth_method", log["auth_method"], AUTH_METHODS)
    if log.get("failure_reason") is not None:
        fr = string("failure_reason", log["failure_reason"])
        if len(fr.encode()) > 256:
            raise Bad("invalid_field", "field `failure_reason` is too long")
        row["failure_reason"] = fr
    if log.get("user_agent") is not None:
        row["user_agent"] = string("user_agent", log["user_agent"]).encode()[:512].decode(errors="ignore")
    geo = log.get("geo")
    if geo is not None:
        if not isinstance(geo, dict):
            raise Bad("invalid_field", "field `geo` must be an object")
        if geo.get("country") is not None:
            c = string("geo.country", geo["country"]).strip().upper()
            if len(c) != 2 or not c.isalpha():
                raise Bad("invalid_field", "field `geo.country` is not a country code")
            row["country"] = c
        if geo.get("city") is not None:
            row["city"] = string("geo.city", geo["city"])
    return row


def session_row(log):
    row = {"session_id": a_uuid("session_id", req(log, "session_id")), "user_id": user_id(log)}
    row["event_time"], row["day"] = common(log)
    row["event_type"] = enum("event_type", req(log, "event_type"), SESSION_TYPES)
    if log.get("ip_address") is not None:
        row["ip_address"] = ip("ip_address", log["ip_address"])
    device = log.get("device")
    if device is not None:
        if not isinstance(device, dict):
            raise Bad("invalid_field", "field `device` must be an object")
        if device.get("type") is not None:
            row["device_type"] = enum("device.type", device["type"], DEVICE_TYPES)
        for k in ("os", "browser"):
            if device.get(k) is not None:
                row[k] = string(f"device.{k}", device[k])
    if log.get("duration_ms") is not None:
        row["duration_ms"] = integer("duration_ms", log["duration_ms"], 2_592_000_000)
    if log.get("pages_viewed") is not None:
        row["pages_viewed"] = integer("pages_viewed", log["pages_viewed"], 1_000_000)
    return row


def activity_row(log):
    row = {"event_id": a_uuid("event_id", req(log, "event_id")), "user_id": user_id(log)}
    if log.get("session_id") is not None:
        row["session_id"] = a_uuid("session_id", log["session_id"])
    row["event_time"], row["day"] = common(log)
    row["action"] = enum("action", req(log, "action"), ACTIONS)
    res = string("resource", req(log, "resource"))
    if not 1 <= len(res.encode()) <= 2048:
        raise Bad("invalid_field", "field `resource` has a bad length")
    row["resource"] = res
    if log.get("duration_ms") is not None:
        row["duration_ms"] = integer("duration_ms", log["duration_ms"], 86_400_000)
    md = log.get("metadata")
    if md is not None:
        if not isinstance(md, dict):
            raise Bad("invalid_field", "field `metadata` must be an object")
        out = {}
        for k, v in md.items():
            if isinstance(v, (dict, list)) or v is None:
                raise Bad("invalid_field", f"field `metadata.{k}` is not a scalar")
            out[k] = v if isinstance(v, str) else json.dumps(v)
        row["metadata"] = out
    return row


ROWS = {"auth": auth_row, "session": session_row, "activity": activity_row}


def handle(event):
    written, dead = [], []
    for batch in event["records"].values():
        for rec in batch:
            try:
                kind = TOPICS.get(rec["topic"])
                if kind is None:
                    raise Bad("wrong_topic", "topic not owned")
                value = rec.get("value")
                if not value:
                    raise Bad("empty_value", "empty")
                try:
                    raw = base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    raise Bad("invalid_base64", "not base64")
                if len(raw) > MAX_VALUE:
                    raise Bad("too_large", "too large")
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise Bad("invalid_utf8", "not utf-8")
                try:
                    log = json.loads(text)
                except ValueError:
                    raise Bad("invalid_json", "not json")
                if not isinstance(log, dict):
                    raise Bad("not_an_object", "not an object")
                row = ROWS[kind](log)
                row["source_partition"], row["source_offset"] = rec["partition"], rec["offset"]
                written.append(row)
            except Bad as bad:
                dead.append({"topic": rec.get("topic"), "offset": rec.get("offset"), "reason": bad.reason, "detail": str(bad)})
    return {"records": len(written) + len(dead), "written": len(written), "dead_lettered": len(dead)}


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with open(path, "rb") as f:
        payload = f.read()
    best, summary = None, None
    for _ in range(repeats):
        start = time.perf_counter()
        summary = handle(json.loads(payload))
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
    summary["seconds"] = best
    summary["records_per_second"] = summary["records"] / best
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
