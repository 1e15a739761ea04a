#!/usr/bin/env python3
"""Publishes one event to a Tandem hub over HTTP, with the standard library only.

    TANDEM_URL=http://localhost:8080 TANDEM_PUBLISH_KEY=… \\
        python3 publish.py orders order:created '{"id": 7}' order-7-created

Prints the event's position: {"channel": "orders", "epoch": "…", "offset": 42}. A retry (503,
a lost connection) carries the same idempotency key, so it never publishes twice; so does
running the command again with the same key within the hub's window (5 minutes).
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid


def publish(channel, type, data, idempotency_key=None, attempts=5):
    """Publishes one event; retries are safe: they carry the same idempotency key."""
    body = json.dumps({"channel": channel, "type": type, "data": data,
                       "idempotencyKey": idempotency_key or str(uuid.uuid4())}).encode()
    request = urllib.request.Request(
        os.environ["TANDEM_URL"].rstrip("/") + "/publish", data=body, method="POST",
        headers={"Authorization": "Bearer " + os.environ["TANDEM_PUBLISH_KEY"],
                 "Content-Type": "application/json"})
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)  # {"channel", "epoch", "offset"}
        except urllib.error.HTTPError as error:
            if error.code != 503 or attempt == attempts - 1:
                raise
            time.sleep(float(error.headers.get("Retry-After", "1")))
        except urllib.error.URLError:
            if attempt == attempts - 1:
                raise
            time.sleep(2 ** attempt / 10)


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: publish.py CHANNEL TYPE DATA_JSON [IDEMPOTENCY_KEY]")
    channel, type, data = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    try:
        print(json.dumps(publish(channel, type, data, sys.argv[4] if len(sys.argv) == 5 else None)))
    except urllib.error.HTTPError as error:
        sys.exit(f"HTTP {error.code}: {error.read().decode()}")
