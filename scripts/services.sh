#!/usr/bin/env bash
# Starts RabbitMQ and Redis on this machine if they are not answering. Used by the demo, the
# tests and CI, so a fresh machine needs no manual step.
set -euo pipefail

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "services: starting redis-server" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
fi
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  echo "services: starting rabbitmq-server" >&2
  rabbitmq-server -detached
fi
for _ in $(seq 1 60); do
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && rabbitmqctl -q await_startup >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "services: RabbitMQ or Redis did not come up within 60 s" >&2
exit 1
