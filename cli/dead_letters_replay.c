/* ringlog dead-letters replay: one dead letter, or every one a filter picks
 * (oldest first, so a call's pushes keep their order), run again through
 * the whole pipeline after a fix (a source's mapping, a profile, a secret).
 * A replayed dead letter is marked with the call it became; one that still
 * fails stays new. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dead_letters.h"
#include "ringlog/audio.h"
#include "ringlog/push.h"
#include "ringlog/source.h"
#include "ringlog/xalloc.h"

/* Sources loaded once per run, by name. */
struct sources {
	struct source_set **sets;
	size_t n;
};

static const struct source *source_for(struct cli *cli, struct sources *s, const char *name)
{
	struct source_set *set;
	struct errbuf e;

	for (size_t i = 0; i < s->n; i++)
		if (source_set_find(s->sets[i], name))
			return source_set_find(s->sets[i], name);
	set = source_set_load_one(cli->db, name, &e);
	if (!set)
		return NULL; /* gone: the push is a rejection (unknown_source) */
	s->sets = xrealloc(s->sets, (s->n + 1) * sizeof(*s->sets));
	s->sets[s->n++] = set;
	return source_set_find(set, name);
}

static void sources_release(struct sources *s)
{
	for (size_t i = 0; i < s->n; i++)
		source_set_unref(s->sets[i]);
	free(s->sets);
}

static int mark_replayed(struct cli *cli, const char *id, long long call_row)
{
	char row[24];
	const char *params[] = { id, row };
	PGresult *res;

	snprintf(row, sizeof(row), "%lld", call_row);
	res = cli_query(cli, "UPDATE dead_letters SET status = 'replayed', replayed_at = now(),"
			     " replay_call_id = $2::bigint WHERE id = $1::bigint AND status = 'new'", 2, params);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

/* Runs the loaded dead letter RES through the pipeline into R; marks it
 * replayed on success. Returns 0, or -1 when it could not be marked. */
static int replay_loaded(struct cli *cli, struct sources *s, PGresult *res, const char *id,
			 struct push_result *r)
{
	struct push_options o = { cli_blobs(cli), (uint64_t)cli->recording_max, AUDIO_STORE_ORIGINAL,
				  -1 /* a replay files no dead letter */ };
	struct push p = {
		.source = PQgetvalue(res, 0, 1),
		.method = PQgetvalue(res, 0, 5),
		.content_type = PQgetisnull(res, 0, 6) ? NULL : PQgetvalue(res, 0, 6),
		.query = PQgetvalue(res, 0, 7),
		.body = PQgetvalue(res, 0, 8),
		.body_len = (size_t)PQgetlength(res, 0, 8),
		.request_id = PQgetvalue(res, 0, 9),
		.received_us = dead_letter_be64(PQgetvalue(res, 0, 11)),
	};

	if (cli->blobcfg && audio_store_format_parse(cli->blobcfg->store_format, &o.store_format) < 0)
		o.store_format = AUDIO_STORE_ORIGINAL;
	push_process(cli->db, source_for(cli, s, p.source), &p, &o, PUSH_NO_DEAD_LETTER, r);
	if (!push_is_success(r->outcome))
		return 0;
	return mark_replayed(cli, id, r->call_row);
}

int dead_letters_replay_one(struct cli *cli, const char *id)
{
	PGresult *res = dead_letter_load(cli, id);
	struct sources s = { NULL, 0 };
	struct push_result r;
	int rc = 1;

	if (!res)
		return 1;
	if (strcmp(PQgetvalue(res, 0, 12), "replayed") == 0) {
		cli_fail("dead letter %s was already replayed (call %s)", id, PQgetvalue(res, 0, 14));
		goto out;
	}
	if (replay_loaded(cli, &s, res, id, &r) < 0)
		goto out;
	if (!push_is_success(r.outcome)) {
		cli_fail("dead letter %s still cannot be stored: %s: %s", id,
			 r.error ? r.error : "error", r.message);
		goto out;
	}
	printf("dead letter %s replayed: call %s (%s, id %lld)\n", id, r.call_id,
	       push_outcome_name(r.outcome), r.call_row);
	rc = 0;
out:
	sources_release(&s);
	PQclear(res);
	return rc;
}

/* ---- in bulk --------------------------------------------------------------- */

/* The filter: $1 source, $2 reason, $3 since (NULL: any). */
#define PICKED                                                                             \
	" FROM dead_letters WHERE status = 'new'"                                          \
	" AND ($1::text IS NULL OR source_name = $1) AND ($2::text IS NULL OR reason = $2)" \
	" AND ($3::timestamptz IS NULL OR received_at >= $3::timestamptz)"

/* Counts by outcome of a run, and the reasons of those that still fail. */
struct tally {
	long long total, done, replayed[8], failed;
	char *reasons[16];
	long long reason_n[16];
	size_t nreasons;
	bool tty;
	struct timespec last;
};

static void count_failure(struct tally *t, const char *reason)
{
	size_t i;

	t->failed++;
	for (i = 0; i < t->nreasons; i++)
		if (strcmp(t->reasons[i], reason) == 0)
			break;
	if (i == t->nreasons) {
		if (t->nreasons == RL_ARRAY_LEN(t->reasons))
			i--; /* the last slot counts the rest */
		else
			t->reasons[t->nreasons++] = xstrdup(reason);
	}
	t->reason_n[i]++;
}

static void progress(struct tally *t, bool last)
{
	struct timespec now;
	long long ok = 0;

	if (!t->tty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!last && (now.tv_sec - t->last.tv_sec) * 1000000000L + (now.tv_nsec - t->last.tv_nsec) < 100000000L)
		return;
	t->last = now;
	for (size_t i = 0; i < RL_ARRAY_LEN(t->replayed); i++)
		ok += t->replayed[i];
	fprintf(stderr, "\rreplaying %lld/%lld (%lld%%): %lld replayed, %lld still failing", t->done, t->total,
		t->total ? t->done * 100 / t->total : 100, ok, t->failed);
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
}

static void summary(struct tally *t)
{
	long long ok = 0;
	const char *sep = "";

	for (size_t i = 0; i < RL_ARRAY_LEN(t->replayed); i++)
		ok += t->replayed[i];
	printf("%lld dead letters: %lld replayed", t->total, ok);
	if (ok) {
		printf(" (");
		for (int o = 0; o < (int)RL_ARRAY_LEN(t->replayed); o++)
			if (t->replayed[o]) {
				printf("%s%lld %s", sep, t->replayed[o], push_outcome_name((enum push_outcome)o));
				sep = ", ";
			}
		printf(")");
	}
	printf(", %lld still failing", t->failed);
	sep = " (";
	for (size_t i = 0; i < t->nreasons; i++) {
		printf("%s%lld %s", sep, t->reason_n[i], t->reasons[i]);
		sep = ", ";
	}
	printf("%s\n", t->nreasons ? ")" : "");
}

/* --dry-run: what would be replayed, changing nothing. */
static int dry_run(struct cli *cli, const char *const *params)
{
	PGresult *res = cli_query(cli, "SELECT source_name, reason, count(*)" PICKED
				  " GROUP BY 1, 2 ORDER BY 1, 2", 3, params);
	long long total = 0;

	if (!res)
		return 1;
	printf("%-16s %-22s %8s\n", "SOURCE", "REASON", "COUNT");
	for (int i = 0; i < PQntuples(res); i++) {
		printf("%-16s %-22s %8s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
		total += atoll(PQgetvalue(res, i, 2));
	}
	PQclear(res);
	res = cli_query(cli, "SELECT id, to_char(received_at, 'YYYY-MM-DD HH24:MI:SS'), source_name, reason,"
			     " left(message, 60)" PICKED " ORDER BY id LIMIT 10", 3, params);
	if (!res)
		return 1;
	if (PQntuples(res))
		printf("\nfirst %d:\n", PQntuples(res));
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-7s %-19s %-16s %-22s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
	PQclear(res);
	printf("\ndry run: %lld dead letters would be replayed; nothing was changed\n", total);
	return 0;
}

/* Replays every picked dead letter, oldest first, a page of ids at a time. */
static int replay_all(struct cli *cli, const char *const *params, struct tally *t)
{
	struct sources s = { NULL, 0 };
	char after[24] = "0";
	const char *page_params[] = { params[0], params[1], params[2], after };
	PGresult *page, *res;
	int rc = 0;

	while (rc == 0) {
		page = cli_query(cli, "SELECT id" PICKED " AND id > $4::bigint ORDER BY id LIMIT 500", 4,
				 page_params);
		if (!page) {
			rc = 1;
			break;
		}
		if (PQntuples(page) == 0) {
			PQclear(page);
			break;
		}
		for (int i = 0; i < PQntuples(page) && rc == 0; i++) {
			const char *id = PQgetvalue(page, i, 0);
			struct push_result r;

			snprintf(after, sizeof(after), "%s", id);
			res = dead_letter_load(cli, id);
			if (!res || replay_loaded(cli, &s, res, id, &r) < 0) {
				rc = 1;
			} else if (push_is_success(r.outcome)) {
				if ((size_t)r.outcome < RL_ARRAY_LEN(t->replayed))
					t->replayed[r.outcome]++;
			} else {
				count_failure(t, r.error ? r.error : "error");
			}
			PQclear(res);
			t->done++;
			progress(t, false);
		}
		PQclear(page);
	}
	sources_release(&s);
	return rc;
}

int dead_letters_replay_bulk(struct cli *cli, int argc, char **argv, const char *usage)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "source", required_argument, NULL, 's' },
		{ "reason", required_argument, NULL, 'r' },
		{ "since", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *params[3] = { NULL, NULL, NULL };
	struct tally t = { 0 };
	bool all = false, dry = false;
	PGresult *res;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 's': params[0] = optarg; break;
		case 'r': params[1] = optarg; break;
		case 't': params[2] = optarg; break;
		case 'n': dry = true; break;
		default: return cli_usage(usage);
		}
	}
	if (optind != argc || (all && (params[0] || params[1] || params[2])) ||
	    (!all && !params[0] && !params[1] && !params[2]))
		return cli_fail("say which dead letters: --all, or --source, --reason and/or --since");
	if (!cli_db(cli))
		return 1;
	res = cli_query(cli, "SELECT count(*)" PICKED, 3, params);
	if (!res)
		return 1; /* e.g. a --since PostgreSQL cannot read, named by its error */
	t.total = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (dry)
		return dry_run(cli, params);
	t.tty = isatty(STDERR_FILENO) && t.total > 0;
	rc = replay_all(cli, params, &t);
	progress(&t, true);
	summary(&t);
	for (size_t i = 0; i < t.nreasons; i++)
		free(t.reasons[i]);
	return rc ? rc : t.failed ? 1 : 0;
}
