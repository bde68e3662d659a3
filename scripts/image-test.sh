#!/usr/bin/env bash
# Build the container image with podman (no Docker engine here), run it, probe
# /health and /v1/predict, and remove it. Where podman cannot run, say so loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=${FRAMING_IMAGE_WORK:-/var/tmp/framing-image}
BASE_TAG=localhost/framing-base:bookworm
IMAGE=localhost/framing-classifier:test
NAME=framing-image-test-$$

loud() { printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!! IMAGE TEST NOT RUN: %s\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' "$*" >&2; }

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "installing podman, runc and debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
  else
    loud "podman/runc/debootstrap are missing and cannot be installed without root"; exit 0
  fi
fi

mkdir -p "$WORK"
cat > "$WORK/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$WORK/containers.conf"

if ! podman info >/dev/null 2>"$WORK/podman-info.err"; then
  loud "podman cannot run on this machine: $(tail -1 "$WORK/podman-info.err")"; exit 0
fi

# No registry is reachable: make the base image from Debian's packages (cached).
if ! podman image exists "$BASE_TAG"; then
  echo "building the base image with debootstrap (once per machine)"
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; echo "debootstrap failed" >&2; exit 1; }
  tar -C "$WORK/rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE_TAG" >/dev/null
  rm -rf "$WORK/rootfs"
fi

cleanup() { podman rm -f "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "building $IMAGE"
CA=/etc/ssl/certs/ca-certificates.crt
# Two attempts: the build downloads wheels from the package index, and one
# network hiccup should not be mistaken for a broken recipe.
built=0
for attempt in 1 2; do
  if podman build --isolation=chroot --network=host \
      --build-arg BASE_IMAGE="$BASE_TAG" \
      -v "$CA:$CA:ro" --env PIP_CERT="$CA" \
      -t "$IMAGE" -f Dockerfile . >"$WORK/build.log" 2>&1; then
    built=1; break
  fi
  echo "podman build attempt $attempt failed" >&2
done
[ "$built" = 1 ] || { tail -40 "$WORK/build.log" >&2; echo "podman build failed (log: $WORK/build.log)" >&2; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "running $IMAGE on 127.0.0.1:$PORT"
podman run -d --name "$NAME" --network=host -e PORT="$PORT" -e HOST=127.0.0.1 -e WEB_CONCURRENCY=1 "$IMAGE" >/dev/null
user=$(podman exec "$NAME" id -u)
[ "$user" != "0" ] || { echo "container runs as root" >&2; exit 1; }

python3 - "$PORT" <<'PY'
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
deadline = time.time() + 90
while True:
    try:
        with urllib.request.urlopen(base + "/ready", timeout=3) as r:
            if r.status == 200:
                break
    except OSError:
        if time.time() > deadline:
            sys.exit("container never became ready")
        time.sleep(1)
with urllib.request.urlopen(base + "/health", timeout=5) as r:
    assert r.status == 200 and json.load(r) == {"status": "ok"}
req = urllib.request.Request(base + "/v1/predict", method="POST",
                             data=json.dumps({"text": "Talks resumed on Monday. The Kyiv regime shelled Donetsk."}).encode(),
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=10) as r:
    body = json.load(r)
assert body["document"]["n_sentences"] == 2, body
print(f"container OK: /health 200, /v1/predict -> {[s['label'] for s in body['sentences']]} (model {body['model']['version']})")
PY
echo "image test passed (uid $user)"
