#!/bin/sh
# Publishes one event to a Tandem hub over HTTP with curl.
#   TANDEM_URL=http://localhost:8080 TANDEM_PUBLISH_KEY=… \
#     sh publish.sh orders order:created '{"id":7}' order-7-created
# Prints the event's position. curl retries failures (503, a lost connection) with the same
# idempotency key, so a retry never publishes twice.
set -eu
if [ $# -ne 4 ]; then
  echo "usage: publish.sh CHANNEL TYPE DATA_JSON IDEMPOTENCY_KEY" >&2
  exit 2
fi
body=$(printf '{"channel":"%s","type":"%s","data":%s,"idempotencyKey":"%s"}' "$1" "$2" "$3" "$4")
curl -sS --fail-with-body -X POST "${TANDEM_URL%/}/publish" \
  -H "Authorization: Bearer $TANDEM_PUBLISH_KEY" \
  -H 'Content-Type: application/json' \
  --retry 5 --retry-all-errors --retry-max-time 30 \
  --data-binary "$body"
echo
