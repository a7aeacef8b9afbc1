#!/usr/bin/env bash
# Builds the base image for the grading image where no registry can be reached:
# a minimal Debian bookworm root file system with Python 3.11 (debootstrap), imported
# as a local image. Needs root and debootstrap (apt-get install debootstrap).
#   sandbox/base-image.sh [TAG]      (default autograde-base:bookworm)
# Elsewhere, any image with Python 3.11 and venv serves as base: --base-image python:3.11-slim
set -euo pipefail
tag="${1:-autograde-base:bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "base image $tag exists"
    exit 0
fi
rootfs="$(mktemp -d /tmp/autograde-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$rootfs" "$mirror"
# no package caches or lists in the image
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'CMD ["/bin/sh"]' - "$tag"
echo "built base image $tag"
