#!/usr/bin/env bash
# Starts a seed node and N member JVMs on loopback, waits until every node is Up, runs a GRPO recipe
# against the cluster (the submitting JVM is the learner), then stops the members (SIGTERM: they
# leave the cluster gracefully) and the seed.
#
#   scripts/local-cluster.sh [-n MEMBERS] [-p SEED_PORT] [-r ROLES] [-s SLOTS] RECIPE
#
# Logs go to runs/local-cluster/{seed,member-K}.log.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
members=2; port=2551; roles="rollout,reward"; slots=1
while getopts "n:p:r:s:h" o; do
  case "$o" in
    n) members="$OPTARG" ;; p) port="$OPTARG" ;; r) roles="$OPTARG" ;; s) slots="$OPTARG" ;;
    *) sed -n '2,8p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [[ $# -ne 1 || ! -f "$1" ]]; then
  echo "local-cluster: give a recipe file (got: ${1:-nothing})" >&2; sed -n '2,8p' "$0" >&2; exit 2
fi
recipe="$1"
logs="runs/local-cluster"; mkdir -p "$logs"
"$here/r1" --version >/dev/null          # build the jar once, before the JVMs race for it
pids=()
stop() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop EXIT
# each JVM gets one PyTorch thread unless R1_THREADS says otherwise: they share the cores
export R1_THREADS="${R1_THREADS:-1}"
# cluster-config/local-cluster.conf: loopback, a dead member is noticed and downed within seconds
export R1_ENV="${R1_ENV:-local-cluster}"
"$here/r1" seed --port "$port" >"$logs/seed.log" 2>&1 & pids+=($!)
for k in $(seq 1 "$members"); do
  "$here/r1" member --roles "$roles" --slots "$slots" --seed "127.0.0.1:$port" >"$logs/member-$k.log" 2>&1 & pids+=($!)
done
# the seed prints "node Up: ADDRESS" for every member that reaches Up
want=$((members + 1)); deadline=$((SECONDS + 120))
until [[ "$(grep -c '^node Up:' "$logs/seed.log" 2>/dev/null || true)" -ge "$want" ]]; do
  if (( SECONDS > deadline )); then echo "local-cluster: nodes not Up after 120 s, see $logs/" >&2; exit 1; fi
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { echo "local-cluster: a node exited, see $logs/" >&2; exit 1; }; done
  sleep 1
done
echo "local-cluster: seed + $members members Up (logs in $logs/)"
"$here/r1" grpo "$recipe" --cluster "127.0.0.1:$port"
echo "local-cluster: run finished; stopping the members and the seed"
