/* ringlog phones renormalize: reads every stored number again with today's
 * rules (libphonenumber, each source's region), in batches of calls and then
 * of leads, each batch one transaction that also moves the progress row of
 * phone_renormalize on: stopped at any point, the next run resumes after the
 * last batch committed. Calls get their E.164 digits from what the PBX sent
 * (NULL when valid for no region); leads, which keep only digits, are read
 * as +digits. Two open leads that now share a number are both kept:
 * `ringlog lead duplicates` lists them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ringlog/buf.h"
#include "ringlog/phone.h"
#include "ringlog/source.h"

static const char usage[] =
	"ringlog phones renormalize [--batch N] [--restart]\n"
	"  reads stored numbers again (calls from what the PBX sent, in their source's\n"
	"  region; leads' digits), N rows a transaction (default 1000), resuming where\n"
	"  an earlier run stopped; --restart walks everything again.";

#define BATCH_DEFAULT 1000
#define BATCH_MAX 100000

struct walk {
	const char *target; /* "calls" or "leads" */
	long long last_id, seen, changed, invalid;
	bool finished;
};

/* Takes the progress row (locked until COMMIT: one run at a time). */
static int progress_take(struct cli *cli, struct walk *w)
{
	const char *params[] = { w->target };
	PGresult *res = cli_query(cli,
		"SELECT last_id, finished_at IS NOT NULL FROM phone_renormalize"
		" WHERE target = $1 FOR UPDATE", 1, params);

	if (!res)
		return -1;
	w->last_id = atoll(PQgetvalue(res, 0, 0));
	w->finished = PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);
	return 0;
}

static int progress_put(struct cli *cli, const struct walk *w, long long seen, long long changed,
			long long invalid, bool finished)
{
	char v[4][24];
	const char *params[] = { w->target, v[0], v[1], v[2], v[3], finished ? "true" : "false" };
	PGresult *res;

	snprintf(v[0], sizeof(v[0]), "%lld", w->last_id);
	snprintf(v[1], sizeof(v[1]), "%lld", seen);
	snprintf(v[2], sizeof(v[2]), "%lld", changed);
	snprintf(v[3], sizeof(v[3]), "%lld", invalid);
	res = cli_query(cli,
		"UPDATE phone_renormalize SET last_id = $2, rows_seen = rows_seen + $3,"
		" changed = changed + $4, invalid = invalid + $5, updated_at = now(),"
		" finished_at = CASE WHEN $6::boolean THEN now() END WHERE target = $1", 6, params);
	PQclear(res);
	return res ? 0 : -1;
}

/* Appends one element of a PostgreSQL array literal: digits, or NULL. */
static void array_add(struct buf *b, const char *digits)
{
	buf_addch(b, b->len ? ',' : '{');
	buf_adds(b, digits && *digits ? digits : "NULL");
}

static const char *array_end(struct buf *b)
{
	if (!b->len)
		buf_addch(b, '{');
	buf_addch(b, '}');
	return buf_str(b);
}

/* The new E.164 of RAW in SRC's plan ("" when none); counts invalid ones. */
static void renormalize_one(const struct source *src, const char *raw, char out[PHONE_E164_LEN],
			    long long *invalid)
{
	struct phone_number n;
	enum phone_verdict v = src ? phone_parse(raw, &src->phone, &n) : PHONE_NOT_PUBLIC;

	if (v == PHONE_INVALID)
		(*invalid)++;
	memcpy(out, v == PHONE_VALID ? n.e164 : "", v == PHONE_VALID ? PHONE_E164_LEN : 1);
}

static const struct source *source_by_id(const struct source_set *set, long long id)
{
	for (size_t i = 0; i < source_set_count(set); i++)
		if (source_set_at(set, i)->id == id)
			return source_set_at(set, i);
	return NULL;
}

/* One batch of calls: rows after W->last_id. Returns the rows read, or -1. */
static int calls_batch(struct cli *cli, const struct source_set *set, struct walk *w, const char *batch)
{
	char after[24], caller[PHONE_E164_LEN], callee[PHONE_E164_LEN];
	const char *params[] = { after, batch };
	struct buf ids = BUF_INIT, callers = BUF_INIT, callees = BUF_INIT;
	long long changed = 0, invalid = 0;
	PGresult *res, *upd;
	int n = -1;

	snprintf(after, sizeof(after), "%lld", w->last_id);
	res = cli_query(cli,
		"SELECT id, source_id, caller, callee, coalesce(caller_e164, ''),"
		" coalesce(callee_e164, '') FROM calls WHERE id > $1 ORDER BY id LIMIT $2", 2, params);
	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const struct source *src = source_by_id(set, atoll(PQgetvalue(res, i, 1)));

		renormalize_one(src, PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2), caller, &invalid);
		renormalize_one(src, PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3), callee, &invalid);
		w->last_id = atoll(PQgetvalue(res, i, 0));
		if (!src || (strcmp(caller, PQgetvalue(res, i, 4)) == 0 &&
			     strcmp(callee, PQgetvalue(res, i, 5)) == 0))
			continue;
		array_add(&ids, PQgetvalue(res, i, 0));
		array_add(&callers, caller);
		array_add(&callees, callee);
		changed++;
	}
	n = PQntuples(res);
	PQclear(res);
	if (changed) {
		const char *up[] = { array_end(&ids), array_end(&callers), array_end(&callees) };

		upd = cli_query(cli,
			"UPDATE calls c SET caller_e164 = u.caller, callee_e164 = u.callee, updated_at = now()"
			" FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u (id, caller, callee)"
			" WHERE c.id = u.id", 3, up);
		if (!upd)
			n = -1;
		PQclear(upd);
	}
	if (n >= 0 && progress_put(cli, w, n, changed, invalid, n < atoi(batch)) < 0)
		n = -1;
	w->seen += n > 0 ? n : 0;
	w->changed += changed;
	w->invalid += invalid;
	buf_release(&ids);
	buf_release(&callers);
	buf_release(&callees);
	return n;
}

/* One batch of leads: their digits read as an international number. A lead
 * whose digits are valid for no region keeps them (a lead has a number),
 * and is counted. */
static int leads_batch(struct cli *cli, struct walk *w, const char *batch)
{
	static const struct phone_plan international = { "", "", "", "" };
	char after[24], plus[PHONE_E164_LEN + 1];
	const char *params[] = { after, batch };
	struct buf ids = BUF_INIT, phones = BUF_INIT;
	long long changed = 0, invalid = 0;
	PGresult *res, *upd;
	int n;

	snprintf(after, sizeof(after), "%lld", w->last_id);
	res = cli_query(cli, "SELECT id, phone FROM leads WHERE id > $1 ORDER BY id LIMIT $2", 2, params);
	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct phone_number num;

		w->last_id = atoll(PQgetvalue(res, i, 0));
		snprintf(plus, sizeof(plus), "+%s", PQgetvalue(res, i, 1));
		if (phone_parse(plus, &international, &num) != PHONE_VALID) {
			invalid++;
			continue;
		}
		if (strcmp(num.e164, PQgetvalue(res, i, 1)) == 0)
			continue;
		array_add(&ids, PQgetvalue(res, i, 0));
		array_add(&phones, num.e164);
		changed++;
	}
	n = PQntuples(res);
	PQclear(res);
	if (changed) {
		const char *up[] = { array_end(&ids), array_end(&phones) };

		upd = cli_query(cli,
			"UPDATE leads l SET phone = u.phone, updated_at = now()"
			" FROM unnest($1::bigint[], $2::text[]) AS u (id, phone) WHERE l.id = u.id", 2, up);
		if (!upd)
			n = -1;
		PQclear(upd);
	}
	if (n >= 0 && progress_put(cli, w, n, changed, invalid, n < atoi(batch)) < 0)
		n = -1;
	w->seen += n > 0 ? n : 0;
	w->changed += changed;
	w->invalid += invalid;
	buf_release(&ids);
	buf_release(&phones);
	return n;
}

static int run_walk(struct cli *cli, const struct source_set *set, struct walk *w, const char *batch)
{
	PGresult *res;
	int n;

	do {
		res = cli_query(cli, "BEGIN", 0, NULL);
		PQclear(res);
		if (!res || progress_take(cli, w) < 0)
			goto fail;
		if (w->finished) {
			PQclear(cli_query(cli, "COMMIT", 0, NULL));
			return 0;
		}
		n = strcmp(w->target, "calls") == 0 ? calls_batch(cli, set, w, batch)
						    : leads_batch(cli, w, batch);
		if (n < 0)
			goto fail;
		res = cli_query(cli, "COMMIT", 0, NULL);
		if (!res)
			goto fail;
		PQclear(res);
	} while (n == atoi(batch));
	return 0;
fail:
	PQclear(cli_query(cli, "ROLLBACK", 0, NULL));
	return -1;
}

static int renormalize(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "batch", required_argument, NULL, 'b' }, { "restart", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },	   { NULL, 0, NULL, 0 },
	};
	struct walk walks[] = { { .target = "calls" }, { .target = "leads" } };
	const char *batch = "1000";
	struct source_set *set = NULL;
	bool restart = false;
	struct errbuf e;
	PGresult *res;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'b')
			batch = optarg;
		else if (c == 'r')
			restart = true;
		else if (c == 'h') {
			printf("usage: %s\n", usage);
			return 0;
		} else
			return cli_usage(usage);
	}
	if (optind != argc || !cli_is_number(batch) || atoi(batch) < 1 || atoi(batch) > BATCH_MAX)
		return cli_usage(usage);
	if (!cli_db(cli))
		return 1;
	set = source_set_load(cli->db, &e);
	if (!set)
		return cli_fail("cannot load the sources: %s", e.msg);
	res = cli_query(cli,
		restart ? "INSERT INTO phone_renormalize (target) VALUES ('calls'), ('leads')"
			  " ON CONFLICT (target) DO UPDATE SET last_id = 0, rows_seen = 0, changed = 0,"
			  " invalid = 0, started_at = now(), updated_at = now(), finished_at = NULL"
			: "INSERT INTO phone_renormalize (target) VALUES ('calls'), ('leads')"
			  " ON CONFLICT (target) DO NOTHING",
		0, NULL);
	if (!res)
		goto out;
	PQclear(res);
	for (size_t i = 0; i < sizeof(walks) / sizeof(walks[0]); i++) {
		if (run_walk(cli, set, &walks[i], batch) < 0)
			goto out;
		printf("%s: %lld read, %lld changed, %lld valid for no region%s\n", walks[i].target,
		       walks[i].seen, walks[i].changed, walks[i].invalid,
		       walks[i].finished ? " (already done; --restart walks again)" : "");
	}
	res = cli_query(cli,
		"SELECT count(*) FROM (SELECT phone FROM leads WHERE status = 'open'"
		" GROUP BY phone HAVING count(*) > 1) d", 0, NULL);
	if (!res)
		goto out;
	if (atoll(PQgetvalue(res, 0, 0)) > 0)
		printf("%s numbers have more than one open lead: ringlog lead duplicates\n",
		       PQgetvalue(res, 0, 0));
	PQclear(res);
	rc = 0;
out:
	source_set_unref(set);
	return rc;
}

int cmd_phones(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "renormalize") == 0)
		return renormalize(cli, argc - 1, argv + 1);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: %s\n", usage);
		return 0;
	}
	return cli_usage(usage);
}
