#!/bin/sh
# Builds one libFuzzer harness against the shared core until `make fuzz`
# takes them over:  tests/fuzz/build.sh b64 && build/fuzz/fuzz_b64 -max_total_time=60
set -eu
cd "$(dirname "$0")/../.."
name=$1
mkdir -p build/fuzz
version=$(ls sql | sed -n 's/^0*\([0-9][0-9]*\)_.*\.sql$/\1/p' | sort -n | tail -1)
pkgs="libmicrohttpd json-c libpq libcurl inih libcrypto libsystemd"
# shellcheck disable=SC2046
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -DRINGLOG_SCHEMA_VERSION="$version" -Iinclude \
	$(pkg-config --cflags $pkgs) -o "build/fuzz/fuzz_$name" "tests/fuzz/fuzz_$name.c" lib/*.c \
	$(pkg-config --libs $pkgs) -lb64 -lpthread -lm
