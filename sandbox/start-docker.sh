#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs docker.io (and debootstrap, for the base
# image) when missing and starts dockerd without iptables or a bridge (sandboxes run with
# --network none). Needs root for the install and the start; idempotent.
set -euo pipefail
if docker info >/dev/null 2>&1; then
    exit 0
fi
if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "docker is not running and only root can start it here" >&2
    exit 1
fi
log="${DOCKERD_LOG:-/tmp/autograde-dockerd.log}"
nohup dockerd --iptables=false --ip-masq=false --bridge=none >"$log" 2>&1 &
for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
        echo "dockerd is up"
        exit 0
    fi
    sleep 1
done
echo "dockerd did not come up; its log ($log):" >&2
tail -20 "$log" >&2
exit 1
