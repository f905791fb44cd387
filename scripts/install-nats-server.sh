#!/usr/bin/env bash
# Installs the nats-server binaries faasq's JetStream tests run against, 2.10 (Debian trixie, the
# floor) and 2.15 (Debian sid, the newest), into .tools/ without touching the system's apt setup:
# a private sources list, private lists/cache dirs, then `dpkg -x` of the downloaded .deb.
# Usage: scripts/install-nats-server.sh [path] [2.10|2.15|all]   (default: all). Safe to re-run: cached.
# Stdout carries only the binary path(s), one a line (so `path 2.10` fits FAASQ_NATS_SERVER_BIN=$(...));
# progress goes to stderr.
set -euo pipefail

if [ "${1:-}" = "path" ]; then shift; fi
want="${1:-all}"
case "$want" in
  2.10) versions=(2.10) ;;
  2.15) versions=(2.15) ;;
  all) versions=(2.10 2.15) ;;
  *) echo "usage: $0 [path] [2.10|2.15|all]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
apt_dir="$tools/apt"
mkdir -p "$tools"

suite_for() {
  case "$1" in
    2.10) echo trixie ;;
    2.15) echo sid ;;
  esac
}

# An installed copy counts when the binary is there and reports the wanted minor version.
installed_dir() {
  local minor="$1" dir
  for dir in "$tools"/nats-server-"$minor".*; do
    [ -x "$dir/usr/sbin/nats-server" ] || continue
    if "$dir/usr/sbin/nats-server" --version 2>/dev/null | grep -q "v$minor\."; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# The machine's own Debian mirror (CI and dev boxes may point at a local mirror or a snapshot).
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri="$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list)"
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

apt_opts() {
  local suite="$1"
  local dir="$apt_dir/$suite"
  echo "-o Dir::Etc::SourceList=$dir/sources.list -o Dir::Etc::SourceParts=/dev/null" \
    "-o Dir::State::Lists=$dir/lists -o Dir::Cache=$dir/cache -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=" \
    "-o APT::Sandbox::User=root -o Debug::NoLocking=1 -q"
}

fetch_version() {
  local minor="$1" suite dir mirror keyring opts got deb target
  suite="$(suite_for "$minor")"
  dir="$apt_dir/$suite"
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/download"
  mirror="$(debian_mirror)"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  if [ -f "$keyring" ]; then
    echo "deb [signed-by=$keyring] $mirror $suite main" > "$dir/sources.list"
  else
    echo "deb $mirror $suite main" > "$dir/sources.list"
  fi
  # shellcheck disable=SC2207
  opts=($(apt_opts "$suite"))
  apt-get "${opts[@]}" update >&2
  got="$(apt-cache "${opts[@]}" policy nats-server | awk '/Candidate:/ { print $2 }')"
  if [ -z "$got" ] || [ "$got" = "(none)" ]; then
    echo "nats-server is not available from $mirror $suite" >&2
    return 1
  fi
  case "$got" in
    "$minor".*) ;;
    *) echo "warning: $suite has nats-server $got, not $minor.x" >&2 ;;
  esac
  rm -f "$dir/download"/nats-server_*.deb
  (cd "$dir/download" && apt-get "${opts[@]}" download "nats-server=$got" >&2)
  deb="$(ls "$dir/download"/nats-server_*.deb | head -n 1)"
  target="$tools/nats-server-${got%%-*}"
  rm -rf "$target"
  dpkg -x "$deb" "$target"
  "$target/usr/sbin/nats-server" --version >&2
  echo "$target"
}

for minor in "${versions[@]}"; do
  if dir="$(installed_dir "$minor")"; then
    echo "nats-server $minor: cached ($("$dir/usr/sbin/nats-server" --version))" >&2
  else
    dir="$(fetch_version "$minor")"
    echo "nats-server $minor: installed $("$dir/usr/sbin/nats-server" --version)" >&2
  fi
  echo "$dir/usr/sbin/nats-server"
done
