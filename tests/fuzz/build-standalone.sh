#!/bin/sh
# Builds the fuzz harnesses of this directory with libFuzzer, ASan and UBSan
# against a clang-instrumented copy of libringlog, until `make fuzz` does.
#   tests/fuzz/build-standalone.sh [SECONDS]   build, then run each SECONDS (default 0: build only)
# Binaries in build/fuzz-issue3/; corpora in build/fuzz-issue3/corpus/NAME (seeded from
# tests/fixtures); crashes are written to build/fuzz-issue3/.
set -eu
cd "$(dirname "$0")/../.."
out=build/fuzz-issue3
mkdir -p "$out/obj"
pkgs="json-c libpq libmicrohttpd libcurl inih libcrypto libsystemd"
cflags="-g -O1 -fno-omit-frame-pointer -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Iinclude $(pkg-config --cflags $pkgs)"
version=$(ls sql | sed -n 's/^0*\([0-9][0-9]*\)_.*\.sql$/\1/p' | sort -n | tail -1)
for f in lib/*.c; do
	clang $cflags -fsanitize=fuzzer-no-link,address,undefined -DRINGLOG_SCHEMA_VERSION="$version" \
		-c "$f" -o "$out/obj/$(basename "$f" .c).o"
done
rm -f "$out/libringlog.a"
ar rcs "$out/libringlog.a" "$out"/obj/*.o
for h in tests/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	clang $cflags -fsanitize=fuzzer,address,undefined "$h" "$out/libringlog.a" \
		$(pkg-config --libs $pkgs) -lb64 -lpthread -lm -o "$out/$name"
	echo "built $out/$name"
done
seconds=${1:-0}
[ "$seconds" -gt 0 ] || exit 0
for h in tests/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	corpus=$out/corpus/$name
	mkdir -p "$corpus"
	case $name in
	fuzz_vendor_profiles|fuzz_custom_mapping) cp tests/fixtures/vendors/*.json tests/fixtures/custom/*.json "$corpus"/ ;;
	fuzz_csv_records) cp tests/fixtures/vendors/*.csv "$corpus"/ ;;
	fuzz_vendor_push)
		for f in tests/fixtures/vendors/*.json tests/fixtures/vendors/*.form tests/fixtures/vendors/*.csv; do
			for t in 00 01 03; do
				{ printf "\\$(printf '%03o' $((0x$t)))\\$(printf '%03o' $((0x$t)))"; cat "$f"; } \
					>"$corpus/$(basename "$f").$t"
			done
		done ;;
	fuzz_phone_plans) printf '0528812345' >"$corpus/il"; printf '+36 1 234 5678' >"$corpus/hu" ;;
	esac
	echo "== $name, $seconds s"
	(cd "$out" && "./$name" -max_total_time="$seconds" -rss_limit_mb=1024 -print_final_stats=1 \
		"corpus/$name" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss|#[0-9]+ *DONE)|ERROR|SUMMARY" || true)
done
