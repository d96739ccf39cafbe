/* make bench, section phones: phone_parse() per number, in CPU time (the
 * machine is shared), ns per number.
 *   cold: distinct numbers (none read twice, so lib/phone.c's per-thread
 *         cache never hits: libphonenumber's own cost), from the seeds'
 *         countries and the hard cases, in the national forms PBXs send;
 *         then withheld callers and extensions.
 *   calls: a call's life as ingestd sees it: its caller read by 6 screen
 *         pops (ringing at 4 stations, talking, hangup), 1 route look-up
 *         and the end-of-call push (caller and callee), distinct callers.
 *   format: phone_format() as the API and the export call it, distinct
 *         numbers, then 1000 numbers over and over (an export's customers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringlog/phone.h"

struct set {
	const char *name;
	struct phone_plan plan;
	const char *pattern; /* each N is a digit of the set's I-th number */
};

static const struct set sets[] = {
	{ "HU 06 30 mobile", { "36", "06", "00", NULL }, "06 30 2NN NNNN" },
	{ "HU +36 1 fixed", { "36", "06", "00", NULL }, "+36 1 2NN NNNN" },
	{ "IL 05x mobile", { "972", "0", "00", NULL }, "052-2NN-NNNN" },
	{ "UA 0xx", { "380", "0", "00", NULL }, "067 2NN NNNN" },
	{ "IT 06 fixed (leading 0)", { "", "0", "00", "IT" }, "06 2NNNNNN" },
	{ "US 1 (NANP)", { "", "1", "011", "US" }, "1 (212) 2NN-NNNN" },
	{ "US 011 international", { "", "1", "011", "US" }, "011 36 30 2NN NNNN" },
	{ "AR 0 11 15 mobile", { "", "0", "00", "AR" }, "011 15 4NNN-NNNN" },
	{ "withheld/extension", { "36", "06", "00", NULL }, NULL },
};

/* PATTERN with its Ns replaced by the digits of I (distinct for I < 10^6). */
static void number(const char *pattern, int i, char out[64])
{
	size_t k = 0;

	for (; *pattern && k < 63; pattern++)
		if (*pattern == 'N') {
			out[k++] = (char)('0' + i % 10);
			i /= 10;
		} else {
			out[k++] = *pattern;
		}
	out[k] = '\0';
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const char *const withheld[] = { "anonymous", "Restricted", "unknown", "1002", "112",
						"sip:alice@pbx", "*31#" };
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	double total = 0, worst = 0;
	long valid = 0, count = 0;
	char raw[64];

	/* libphonenumber loads its metadata once, on first use. */
	struct phone_number warm;
	(void)phone_parse("+36301234567", &sets[0].plan, &warm);
	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		double t0 = now_ns(), ns;
		long ok = 0;

		for (int i = 0; i < n; i++) {
			struct phone_number num;

			if (sets[s].pattern)
				number(sets[s].pattern, i, raw);
			else
				snprintf(raw, sizeof(raw), "%s", withheld[i % 7]);
			ok += phone_parse(raw, &sets[s].plan, &num) == PHONE_VALID;
		}
		ns = (now_ns() - t0) / n;
		printf("  %-26s %8.0f ns/number  (%ld of %d valid)\n", sets[s].name, ns, ok, n);
		total += ns * n;
		count += n;
		valid += ok;
		if (ns > worst)
			worst = ns;
	}
	printf("  %-26s %8.0f ns/number  (%ld of %ld valid), slowest set %.0f ns\n", "cold, all", total / count,
	       valid, count, worst);
	for (size_t s = 0; s + 1 < sizeof(sets) / sizeof(sets[0]); s++) {
		double t0 = now_ns(), ns;
		long reads = 0;

		for (int i = 0; i < n / 8; i++) {
			struct phone_number num;

			number(sets[s].pattern, i, raw);
			for (int k = 0; k < 8; k++, reads++)
				(void)phone_parse(raw, &sets[s].plan, &num);
			(void)phone_parse("1002", &sets[s].plan, &num); /* the callee: an extension */
			reads++;
		}
		ns = (now_ns() - t0) / (double)reads;
		printf("  calls: %-19s %8.0f ns/number  (%ld reads)\n", sets[s].name, ns, reads);
	}
	for (int pass = 0; pass < 2; pass++) {
		double t0 = now_ns();
		char text[PHONE_DISPLAY_LEN], e164[64];

		for (int i = 0; i < n; i++) {
			number("3630NNNNNNN", pass ? i % 1000 : i + 3000000, e164);
			(void)phone_format(e164, (enum phone_style)(1 + i % 2), "HU", text, sizeof(text));
		}
		printf("  format: %-18s %8.0f ns/number\n", pass ? "1000, repeated" : "distinct",
		       (now_ns() - t0) / n);
	}
	return 0;
}
