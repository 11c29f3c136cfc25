#!/usr/bin/env bash
# A real 3-node Docker Swarm on this one machine, for Berth's Swarm tests and benchmarks.
#
#   scripts/swarm-cluster.sh up          bring it up (tears down any leftover first); prints `env`
#   scripts/swarm-cluster.sh down        remove everything `up` made; safe to run any time
#   scripts/swarm-cluster.sh status      the nodes as the leader sees them
#   scripts/swarm-cluster.sh env         the variables tests read (BERTH_SWARM_*)
#   scripts/swarm-cluster.sh kill-node N hard-kill node N: its dockerd, containerd, shims, containers
#   scripts/swarm-cluster.sh stop-node N stop node N's dockerd as a host shutting down would (SIGTERM:
#                                        it stops its containers, then exits), then whatever is left
#   scripts/swarm-cluster.sh start-node N start node N's dockerd again (it rejoins by itself)
#
# Each node is its own dockerd (own --data-root, --exec-root, --pidfile, unix socket, and the
# containerd dockerd starts for it under its exec root, with its own namespace) in its own
# network namespace, entered with `nsenter --net` (`ip netns exec` remounts /sys, and dockerd
# then fails with "Devices cgroup isn't mounted"), with its own hostname (`unshare --uts`).
# The namespaces hang off one Linux bridge through veth pairs:
#
#   host  berthsw0  100.64.77.1/24
#   node 1 berthsw-n1  100.64.77.11   leader (manager)
#   node 2 berthsw-n2  100.64.77.12   manager
#   node 3 berthsw-n3  100.64.77.13   worker
#
# 100.64.0.0/10 (shared address space) is in none of Docker's default address pools, so the
# shared dockerd on the host never picks a subnet that collides with the bridge. The nodes
# have no default route: Swarm's registry look-ups fail at once instead of timing out.
# The host's FORWARD chain drops bridged traffic once Docker runs (br_netfilter), so one
# ACCEPT rule for the bridge is inserted and removed again by `down`.
#
# Every process of a node lives in a cgroup of our own (pids hierarchy: the daemon's in
# berth-swarm/nN, its containers' under berth-swarm/nN-tasks via --cgroup-parent), so `down`
# and `kill-node` end exactly those processes, by pid, and nothing else on the machine.
# Every wait is bounded. The shared dockerd at /var/run/docker.sock is only read from (its
# sample images are saved and loaded into each node); it never joins a swarm.
set -euo pipefail

BRIDGE=berthsw0
SUBNET_PREFIX=100.64.77
HOST_IP=$SUBNET_PREFIX.1
STATE=/run/berth-swarm
DATA=/var/lib/berth-swarm
CGROUP=berth-swarm
LOCK=/run/berth-swarm.lock
# Held for as long as a test run or benchmark uses the cluster (BerthTestSupport.SwarmCluster
# holds it from up to down; it passes BERTH_SWARM_SESSION_HELD=1 to this script). Several
# worktrees on one machine run the Swarm tests: without it, one run's `up` (which starts
# with `down`) would tear down the cluster under another run's feet.
SESSION_LOCK=/run/berth-swarm.session.lock
NODES=(1 2 3)
IMAGES=(shop/customer:1.0 shop/customer:1.1 shop/booking:1.0 shop/booking:1.1 shop/booking:broken shop/gateway:1.0 shop/gateway:1.1)
RULE=(FORWARD -i "$BRIDGE" -o "$BRIDGE" -m comment --comment berth-swarm -j ACCEPT)
DOCKER=${DOCKER:-docker}
SOURCE_DOCKER_HOST=${BERTH_SWARM_IMAGE_SOURCE:-unix:///var/run/docker.sock}

say() { echo "swarm-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

netns() { echo "berthsw-n$1"; }
node_ip() { echo "$SUBNET_PREFIX.$((10 + $1))"; }
sock() { echo "unix://$STATE/n$1.sock"; }
d() { local n=$1; shift; "$DOCKER" -H "$(sock "$n")" "$@"; }

# wait_for SECONDS DESCRIPTION COMMAND...: runs COMMAND every 0.2 s until it succeeds.
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  while ! "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      say "gave up after ${seconds}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# The pids of a node's processes: its daemon cgroup and its containers' cgroups.
node_pids() {
  local n=$1 dir
  for dir in /sys/fs/cgroup/pids/$CGROUP/n$n /sys/fs/cgroup/pids/$CGROUP/n$n-tasks; do
    [ -d "$dir" ] || continue
    find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null || true
  done
}

# kill_node N SIGNAL: signals every process of node N, by pid.
signal_node() {
  local n=$1 sig=$2 pid
  for pid in $(node_pids "$n"); do kill -s "$sig" "$pid" 2>/dev/null || true; done
}

# Hard-kills node N and waits (bounded) until none of its processes is left.
kill_node() {
  local n=$1
  # Freeze first, so that no process forks while we go through the list.
  signal_node "$n" STOP
  signal_node "$n" KILL
  local deadline=$((SECONDS + 15))
  while [ -n "$(node_pids "$n")" ]; do
    ((SECONDS < deadline)) || { say "node $n: processes left after SIGKILL: $(node_pids "$n" | tr '\n' ' ')"; return 1; }
    signal_node "$n" KILL
    sleep 0.1
  done
}

# Stops node N's dockerd politely, as systemd does when a host shuts down: SIGTERM, and
# dockerd stops its containers (--shutdown-timeout 2) and its containerd before it exits.
# Bounded: what is still there after 30 s is killed.
stop_node() {
  local n=$1 pid deadline
  pid=$(cat "$STATE/n$n.pid" 2>/dev/null || true)
  [ -n "$pid" ] || die "node $n: no pid file $STATE/n$n.pid (is it running?)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || { say "node $n: dockerd (pid $pid) still runs 30 s after SIGTERM; killing"; break; }
    sleep 0.2
  done
  kill_node "$n"
}

start_node() {
  local n=$1 ns
  ns=$(netns "$n")
  mkdir -p "$STATE/n$n" "$DATA/n$n" "/sys/fs/cgroup/pids/$CGROUP/n$n"
  [ -f "$STATE/daemon.json" ] || echo '{}' >"$STATE/daemon.json"
  # The subshell moves itself into the node's cgroup, then becomes dockerd in the node's
  # network and UTS namespaces; containerd and the shims inherit the cgroup.
  (
    echo $BASHPID >"/sys/fs/cgroup/pids/$CGROUP/n$n/cgroup.procs"
    # dockerd outlives this script: it must hold none of the descriptors its caller gave
    # us beyond stdin/stdout/stderr (our lock; the socket through which Foundation's Process
    # learns that this script ended, which would otherwise stay open until dockerd exits).
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
    done
    exec setsid nsenter --net="/var/run/netns/$ns" unshare --uts -- /bin/sh -c '
      hostname "$0"
      exec dockerd "$@"' "$ns" \
      --config-file "$STATE/daemon.json" \
      --data-root "$DATA/n$n" \
      --exec-root "$STATE/n$n" \
      --pidfile "$STATE/n$n.pid" \
      -H "$(sock "$n")" \
      --containerd-namespace "berthsw-n$n" \
      --containerd-plugins-namespace "berthsw-n$n-plugins" \
      --cgroup-parent "/$CGROUP/n$n-tasks" \
      --shutdown-timeout 2 \
      --userland-proxy=false \
      </dev/null >>"$STATE/n$n.log" 2>&1
  ) &
  if ! wait_for 60 "dockerd of node $n to answer on $(sock "$n")" d "$n" info; then
    say "its log ($STATE/n$n.log):"
    tail -n 30 "$STATE/n$n.log" >&2 || true
    return 1
  fi
}

# Unmounts whatever the nodes' daemons left mounted under our folders (after a hard kill:
# overlay mounts, network namespace files), deepest first.
unmount_all() {
  local mp
  { awk '{print $5}' /proc/self/mountinfo | grep -E "^($STATE|$DATA)(/|$)" || true; } | sort -r | while read -r mp; do
    umount -l "$mp" 2>/dev/null || true
  done
}

down() {
  # Best effort from here on: every step runs even when one before it fails.
  set +e
  local n
  # Politely first (dockerd stops its containers), then by force.
  for n in "${NODES[@]}"; do
    if [ -f "$STATE/n$n.pid" ]; then kill -TERM "$(cat "$STATE/n$n.pid")" 2>/dev/null || true; fi
  done
  local deadline=$((SECONDS + 20))
  for n in "${NODES[@]}"; do
    while [ -f "$STATE/n$n.pid" ] && kill -0 "$(cat "$STATE/n$n.pid" 2>/dev/null || echo 0)" 2>/dev/null \
      && ((SECONDS < deadline)); do
      sleep 0.2
    done
    kill_node "$n" || true
  done
  unmount_all
  for n in "${NODES[@]}"; do
    ip netns del "$(netns "$n")" 2>/dev/null || true
    ip link del "berthsw-h$n" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  while iptables -C "${RULE[@]}" 2>/dev/null; do iptables -D "${RULE[@]}"; done
  # cgroups: deepest first, in every hierarchy dockerd may have made them in.
  find /sys/fs/cgroup/*/"$CGROUP" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  rm -rf "$STATE" "$DATA"
  set -e
}

network() {
  ip link add "$BRIDGE" type bridge
  ip addr add "$HOST_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  iptables -I "${RULE[@]}"
  local n ns
  for n in "${NODES[@]}"; do
    ns=$(netns "$n")
    ip netns add "$ns"
    ip link add "berthsw-h$n" type veth peer name eth0 netns "$ns"
    ip link set "berthsw-h$n" master "$BRIDGE" up
    ip -n "$ns" addr add "$(node_ip "$n")/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  done
}

load_images() {
  local tar="$STATE/images.tar" n present=()
  local image
  for image in "${IMAGES[@]}"; do
    if "$DOCKER" -H "$SOURCE_DOCKER_HOST" image inspect "$image" >/dev/null 2>&1; then present+=("$image"); fi
  done
  ((${#present[@]})) || die "none of the sample images is on $SOURCE_DOCKER_HOST: run samples/build-images.sh"
  "$DOCKER" -H "$SOURCE_DOCKER_HOST" save -o "$tar" "${present[@]}"
  for n in "${NODES[@]}"; do d "$n" load -q -i "$tar" >/dev/null & done
  wait
  rm -f "$tar"
}

env_lines() {
  local n
  echo "BERTH_SWARM_NODES=$(for n in "${NODES[@]}"; do printf '%s ' "$(netns "$n")"; done | sed 's/ $//')"
  for n in "${NODES[@]}"; do
    echo "BERTH_SWARM_N${n}_HOST=$(sock "$n")"
    echo "BERTH_SWARM_N${n}_ADDR=$(node_ip "$n")"
  done
  echo "BERTH_SWARM_MANAGER=$(sock 1)"
}

up() {
  local started=$SECONDS
  command -v ip >/dev/null || die "ip (iproute2) is missing: apt-get install iproute2"
  command -v iptables >/dev/null || die "iptables is missing: apt-get install iptables"
  command -v nsenter >/dev/null && command -v unshare >/dev/null || die "nsenter/unshare (util-linux) are missing"
  command -v dockerd >/dev/null || die "dockerd is missing: apt-get install docker.io"
  [ -d /sys/fs/cgroup/pids ] || die "no cgroup v1 pids hierarchy at /sys/fs/cgroup/pids; this script needs one to track each node's processes"
  down
  mkdir -p "$STATE" "$DATA"
  network
  local n
  for n in "${NODES[@]}"; do start_node "$n" & done
  for n in "${NODES[@]}"; do wait -n || die "a node's dockerd did not start"; done
  say "daemons up after $((SECONDS - started))s"
  load_images &
  local loading=$!
  d 1 swarm init --advertise-addr "$(node_ip 1)" --listen-addr "$(node_ip 1):2377" >/dev/null
  # Fast failure detection for tests: a node that stops answering is down after a few
  # seconds (default 5 s heartbeat, marked down after a few misses).
  d 1 swarm update --dispatcher-heartbeat 2s >/dev/null
  local manager_token worker_token
  manager_token=$(d 1 swarm join-token -q manager)
  worker_token=$(d 1 swarm join-token -q worker)
  d 2 swarm join --advertise-addr "$(node_ip 2)" --listen-addr "$(node_ip 2):2377" --token "$manager_token" "$(node_ip 1):2377" >/dev/null
  d 3 swarm join --advertise-addr "$(node_ip 3)" --listen-addr "$(node_ip 3):2377" --token "$worker_token" "$(node_ip 1):2377" >/dev/null
  wait_for 60 "3 ready nodes" sh -c "[ \"\$($DOCKER -H $(sock 1) node ls --format '{{.Status}}' | grep -c Ready)\" = 3 ]"
  wait "$loading" || die "loading the sample images into the nodes failed"
  say "3 nodes (leader, manager, worker) ready after $((SECONDS - started))s"
  env_lines
}

case "${1:-}" in
  up | down | start-node | kill-node | stop-node)
    exec 9>"$LOCK"
    flock -w 300 9 || die "another swarm-cluster.sh holds $LOCK"
    if [ "${BERTH_SWARM_SESSION_HELD:-}" != 1 ]; then
      exec 8>"$SESSION_LOCK"
      if ! flock -n 8; then
        if [ "$1" = down ]; then
          say "the cluster is in use by another test run or benchmark (it holds $SESSION_LOCK); left alone"
          exit 0
        fi
        die "the cluster is in use by another test run or benchmark (it holds $SESSION_LOCK); try again when it is done"
      fi
    fi
    case "$1" in
      up) if ! up; then say "bring-up failed; tearing down"; down; exit 1; fi ;;
      down) down ;;
      kill-node) [[ "${2:-}" =~ ^[123]$ ]] || die "usage: $0 kill-node 1|2|3"; kill_node "$2" ;;
      start-node) [[ "${2:-}" =~ ^[123]$ ]] || die "usage: $0 start-node 1|2|3"; start_node "$2" ;;
      stop-node) [[ "${2:-}" =~ ^[123]$ ]] || die "usage: $0 stop-node 1|2|3"; stop_node "$2" ;;
    esac
    ;;
  status) d 1 node ls ;;
  env) env_lines ;;
  *) die "usage: $0 up|down|status|env|kill-node N|stop-node N|start-node N" ;;
esac
