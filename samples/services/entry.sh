#!/bin/sh
# PID 1 of every sample image. As PID 1, httpd would ignore SIGTERM and `docker stop` would
# always wait out the grace period: run it as a child instead, and stop it on TERM/INT.
httpd -f -p "${PORT:-8080}" -h /www &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit 0' TERM INT
wait "$pid"
