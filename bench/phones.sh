# Section phones: reading a number with libphonenumber (bench/phone_bench.c),
# CPU time per number (wall time on a shared machine is noise). Target:
# under 5 µs, so ingest does not slow down. Cold reads are libphonenumber's
# own cost (its ICU regular expressions); a call's life is what ingestd
# does per call, where lib/phone.c's per-thread cache answers the repeats.
say "phones — phone_parse() per number, CPU time (target < 5 µs)"
_out=$("$ROOT/${RINGLOG_BUILD:-build/default}/bench/phone_bench" "${BENCH_PHONES:-20000}")
say "$_out"
_max() { printf '%s\n' "$_out" | grep -E "$1" | sed 's/.* \([0-9][0-9]*\) ns\/number.*/\1/' | sort -n | tail -1; }
_calls=$(_max '^  calls:')
_seeds=$(_max '^  (HU|IL|UA) ')
_cold=$(_max '^  [A-Z][A-Z] ')
_verdict() { [ "$1" -lt 5000 ] && echo met || echo missed; }
say "  a call's life, slowest set: $_calls ns ($(_verdict "$_calls")); cold, seed countries (HU IL UA): $_seeds ns ($(_verdict "$_seeds")); cold, slowest (IT, NANP, AR): $_cold ns ($(_verdict "$_cold"))"
