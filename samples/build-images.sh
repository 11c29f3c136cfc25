#!/usr/bin/env bash
# Builds the sample images offline, from Debian's busybox-static: no registry, no Dockerfile.
# Each image is a root filesystem (static busybox, its applet links, /entry.sh, /www) piped
# through `docker import`.
#
#   shop/customer, shop/booking, shop/gateway  at 1.0 and 1.1 (healthy; /version differs)
#   shop/booking:broken                        /healthz never passes (404), /version works
#
# Every image serves /healthz and /version on :8080; booking adds /cgi-bin/customer (calls
# customer by name), gateway /cgi-bin/booking. Idempotent: an image whose label
# berth.sample.hash matches the content is left alone.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
busybox="${BUSYBOX:-/bin/busybox}"
if ! "$busybox" --list >/dev/null 2>&1; then
  echo "build-images: $busybox is not a working busybox; install busybox-static (apt-get install busybox-static)" >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "build-images: no Docker daemon answers; start dockerd (scripts/setup.sh does)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The base root filesystem, shared by every image: static busybox and its applet links.
base="$work/base"
mkdir -p "$base/bin" "$base/www" "$base/tmp" "$base/etc" "$base/proc" "$base/sys" "$base/dev"
cp "$busybox" "$base/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$base/bin/$applet"
done
cp "$here/services/entry.sh" "$base/entry.sh"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$base/etc/passwd"
printf 'root:x:0:\n' >"$base/etc/group"
chmod 1777 "$base/tmp"

# build NAME TAG VERSION_TEXT HEALTHY(yes|no)
build() {
  local name="$1" tag="$2" version="$3" healthy="$4"
  local root="$work/$name-$tag"
  cp -a "$base" "$root"
  printf '%s\n' "$version" >"$root/www/version"
  if [ "$healthy" = yes ]; then printf 'ok\n' >"$root/www/healthz"; fi
  if [ -d "$here/services/$name/cgi-bin" ]; then cp -R "$here/services/$name/cgi-bin" "$root/www/cgi-bin"; fi

  local tarball="$work/$name-$tag.tar"
  tar -C "$root" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$tarball" .
  local hash
  hash="$(sha256sum "$tarball" | cut -c1-16)"
  local ref="shop/$name:$tag"
  local existing
  existing="$(docker image inspect -f '{{ index .Config.Labels "berth.sample.hash" }}' "$ref" 2>/dev/null || true)"
  if [ "$existing" = "$hash" ]; then
    echo "build-images: $ref is up to date"
    return
  fi
  local previous
  previous="$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null || true)"
  docker import \
    -c 'CMD ["/entry.sh"]' \
    -c 'ENV PATH=/bin' \
    -c 'EXPOSE 8080' \
    -c "LABEL berth.sample.hash=$hash" \
    "$tarball" "$ref" >/dev/null
  # The image this one replaced is now untagged: remove it unless a container still uses it.
  if [ -n "$previous" ]; then docker image rm "$previous" >/dev/null 2>&1 || true; fi
  echo "build-images: built $ref ($version)"
}

for svc in customer booking gateway; do
  build "$svc" 1.0 "$svc 1.0" yes
  build "$svc" 1.1 "$svc 1.1" yes
done
build booking broken "booking broken" no
