#!/bin/sh
# Installs the Debian 12 packages ringlog needs, only those missing.
#   scripts/deps.sh build test bench ...  (groups; default: build test)
set -eu

build="build-essential pkg-config libmicrohttpd-dev libgnutls28-dev libjson-c-dev libpq-dev
       libcurl4-openssl-dev libb64-dev libssl-dev libinih-dev libcmocka-dev libsystemd-dev
       libphonenumber-dev"
test="postgresql postgresql-client python3 python3-psycopg2 python3-yaml curl procps util-linux
      openssl systemd chromium nodejs npm postgresql-15-pgtap"
bench="wrk nodejs npm nginx-light"
fuzz="clang libclang-rt-14-dev"
browser="chromium nodejs npm"
valgrind="valgrind"

want=""
for group in ${*:-build test}; do
	eval "want=\"\$want \$$group\""
done

missing=""
for p in $want; do
	# Node.js may come from elsewhere (NodeSource): a working one will do.
	case $p in
	nodejs) command -v node >/dev/null 2>&1 && continue ;;
	npm) command -v npm >/dev/null 2>&1 && continue ;;
	esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
	$sudo apt-get update -q >/dev/null
	$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
}
