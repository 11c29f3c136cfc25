#!/usr/bin/env bash
# Installs what Berth needs on Debian 12 (run as root): the C libraries Berth links, the
# Docker Engine, and the tools the demo and benchmarks use. Starts dockerd if none answers.
# Idempotent: a second run does nothing but check.
#
#   scripts/setup.sh --bench   also the peers the benchmarks measure Berth against (nginx with
#                              its stream module, HAProxy) and the load generator wrk
#   scripts/setup.sh --test    also what the browser tests of the web UI drive: Debian's
#                              Chromium, its chromedriver and Selenium for Python 3
set -euo pipefail

# iproute2, iptables and util-linux (nsenter, unshare): the 3-node Swarm of the tests
# (scripts/swarm-cluster.sh). age: secrets encrypted in git (berth secret, apply).
# docker-registry and apache2-utils (htpasswd): the loopback registry of the pull tests.
need=(libyaml-dev libgit2-dev libsqlite3-dev zlib1g-dev curl procps pkg-config git docker.io busybox-static iproute2 iptables util-linux
  age docker-registry apache2-utils)
if [ "${1:-}" = "--bench" ]; then
  need+=(nginx libnginx-mod-stream haproxy wrk)
fi
if [ "${1:-}" = "--test" ]; then
  need+=(chromium chromium-driver python3-selenium)
fi
missing=()
for p in "${need[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: swift is not on PATH (Berth needs Swift 6.2 or newer)" >&2
  exit 1
fi

# The Docker Engine: start one if none answers.
if ! docker info >/dev/null 2>&1; then
  echo "setup: starting dockerd" >&2
  mkdir -p /var/log
  nohup dockerd >/var/log/berth-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    echo "setup: dockerd did not start; its log:" >&2
    tail -n 30 /var/log/berth-dockerd.log >&2 || true
    exit 1
  fi
fi

# The sample images, built offline from busybox-static.
if [ -x samples/build-images.sh ]; then
  samples/build-images.sh
fi
