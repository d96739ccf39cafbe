/* ringlog erase --phone +E164 [--source S] [--dry-run] [--by NAME] [--json]:
 * erases a person (README "Privacy"): everything ringlog keeps of the
 * number, in one transaction (ringlog_erase in SQL), then the blobs of its
 * recordings no row uses any more. Held data stays and is listed. */
#include <getopt.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ringlog/xalloc.h"

static const char erase_sql[] = "SELECT ringlog_erase($1, $2::bigint, $3::boolean, $4)::text";
static const char source_sql[] = "SELECT id FROM sources WHERE name = $1";

#define ERASE_ATTEMPTS 10

/* True when RES failed as a concurrent push can make it (serialization
 * failure, deadlock): worth running again. */
static bool retryable(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

/* Runs the erasure in its own REPEATABLE READ transaction (ringlog_erase),
 * again when a push of the same number got in its way. Returns the
 * committed result, or NULL after printing why. */
static PGresult *run_erase_locked(struct cli *cli, const char *const *params)
{
	PGconn *conn = db_conn(cli->db);

	for (int attempt = 1;; attempt++) {
		if (attempt > 1)
			usleep(20000U * (unsigned)attempt);
		PGresult *res = PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ"), *commit = NULL;
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

		PQclear(res);
		res = ok ? PQexecParams(conn, erase_sql, 4, NULL, params, NULL, NULL, 0) : NULL;
		if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
			commit = PQexec(conn, "COMMIT");
			if (PQresultStatus(commit) == PGRES_COMMAND_OK) {
				PQclear(commit);
				return res;
			}
			PQclear(res);
			res = commit;
		} else {
			PQclear(PQexec(conn, "ROLLBACK"));
		}
		if (attempt >= ERASE_ATTEMPTS || !res || !retryable(res)) {
			cli_fail("erase: %s", res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
			PQclear(res);
			return NULL;
		}
		PQclear(res);
	}
}

static const char *const kinds[] = { "calls", "revisions", "recordings", "tasks", "events",
				     "dead_letters", "click2calls", "leads", "audit_filters", NULL };

/* "+36 30 123 4567", "0036301234567", "36301234567" -> digits; -1 if not E.164. */
static int cli_e164(const char *in, char out[16])
{
	size_t n = 0;

	if (in[0] == '+')
		in++;
	else if (in[0] == '0' && in[1] == '0')
		in += 2;
	for (; *in; in++) {
		if (*in == ' ' || *in == '-' || *in == '(' || *in == ')')
			continue;
		if (*in < '0' || *in > '9' || n >= 15)
			return -1;
		out[n++] = *in;
	}
	out[n] = '\0';
	return n >= 7 && out[0] != '0' ? 0 : -1;
}

static PGresult *run_erase_locked(struct cli *cli, const char *const *params);

/* The number's lock first (ringlog_lead_lock's key, held by the session
 * across the transaction's retries): pushes that create a lead or a task
 * for it wait for the erasure, and it for them. */
static PGresult *run_erase(struct cli *cli, const char *const *params)
{
	const char *lock[] = { params[0] };
	PGresult *res = cli_query(cli, "SELECT pg_advisory_lock($1::bigint)", 1, lock);

	if (!res)
		return NULL;
	PQclear(res);
	res = run_erase_locked(cli, params);
	PQclear(PQexecParams(db_conn(cli->db), "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, lock,
			     NULL, NULL, 0));
	return res;
}

/* Who runs the command, for the erasure's record: cli:<login>. */
static char *operator_name(const char *by)
{
	const char *who = by ? by : getenv("SUDO_USER");
	struct passwd *pw;
	char *out;

	if (!who || !*who)
		who = (pw = getpwuid(getuid())) ? pw->pw_name : "unknown";
	out = xmalloc(strlen(who) + 5);
	strcpy(out, by ? "" : "cli:");
	strcat(out, who);
	return out;
}

/* Of the freed keys $1 (JSON), those no row uses now (a push may have
 * stored the same audio again since). */
static const char unused_sql[] =
	"SELECT k FROM jsonb_array_elements_text($1::jsonb) k"
	" WHERE NOT EXISTS (SELECT 1 FROM recordings r WHERE r.blob_key = k)";

/* Deletes the freed blobs (after the commit: rows first); returns how many. */
static long remove_freed(struct cli *cli, json_object *keys, long *failed)
{
	struct blob_store *blobs = NULL;
	size_t n = keys ? json_object_array_length(keys) : 0;
	const char *params[] = { keys ? json_object_to_json_string_ext(keys, JSON_C_TO_STRING_PLAIN) : "[]" };
	PGresult *unused;
	long removed = 0;

	if (!n)
		return 0;
	if (!(blobs = cli_blobs(cli)) || !(unused = cli_query(cli, unused_sql, 1, params))) {
		*failed += (long)n;
		return 0;
	}
	for (int i = 0; i < PQntuples(unused); i++) {
		const char *k = PQgetvalue(unused, i, 0);
		struct errbuf e;

		if (!blob_key_is_valid(k))
			continue;
		if (blob_remove(blobs, k, &e) < 0) {
			fprintf(stderr, "ringlog: blob %s: %s\n", k, e.msg);
			(*failed)++;
		} else {
			removed++;
		}
	}
	PQclear(unused);
	return removed;
}

static void print_ids(const char *what, json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	if (!n)
		return;
	printf("%s:", what);
	for (size_t i = 0; i < n; i++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(arr, i)));
	putchar('\n');
}

static void report(json_object *r, bool dry_run, long blobs)
{
	json_object *removed = NULL, *kept = NULL, *v;

	json_object_object_get_ex(r, "removed", &removed);
	json_object_object_get_ex(r, "kept", &kept);
	printf("%s", dry_run ? "would remove" : "removed");
	for (int i = 0; kinds[i]; i++)
		printf("%s %s %lld", i ? "," : "", kinds[i],
		       json_object_object_get_ex(removed, kinds[i], &v) ? (long long)json_object_get_int64(v) : 0);
	if (!dry_run)
		printf("; %ld blobs deleted", blobs);
	printf("%s\n", dry_run ? " (dry run: nothing changed)" : "");
	for (size_t i = 0; kept && i < json_object_array_length(kept); i++) {
		json_object *k = json_object_array_get_idx(kept, i), *kind, *id, *why;

		json_object_object_get_ex(k, "kind", &kind);
		json_object_object_get_ex(k, "id", &id);
		json_object_object_get_ex(k, "reason", &why);
		printf("kept %s %s: %s\n", json_object_get_string(kind), json_object_get_string(id),
		       json_object_get_string(why));
	}
	if (dry_run) {
		json_object_object_get_ex(r, "calls", &v);
		print_ids("calls", v);
		json_object_object_get_ex(r, "leads", &v);
		print_ids("leads", v);
		json_object_object_get_ex(r, "dead_letters", &v);
		print_ids("dead letters", v);
	} else if (json_object_object_get_ex(r, "erasure_id", &v)) {
		printf("recorded as erasure %s (the number only as a keyed hash)\n", json_object_get_string(v));
	}
}

int cmd_erase(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "phone", required_argument, NULL, 'p' }, { "source", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },     { "by", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },        { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] = "ringlog erase --phone +E164 [--source S] [--dry-run] [--by NAME] [--json]";
	const char *phone = NULL, *source = NULL, *by = NULL;
	char e164[16], source_id[24], *who = NULL;
	bool dry_run = false, json = false;
	json_object *r = NULL, *freed = NULL;
	PGresult *res = NULL;
	long blobs = 0, failed = 0;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': phone = optarg; break;
		case 's': source = optarg; break;
		case 'n': dry_run = true; break;
		case 'b': by = optarg; break;
		case 'j': json = true; break;
		case 'h':
			printf("usage: %s\n\nErases everything kept of a phone number: its calls (revisions,\n"
			       "recordings and their blobs, tasks), call events, dead letters that mention\n"
			       "it, click-to-calls, and its lead when nothing else refers to it. Held calls\n"
			       "and leads (ringlog hold) stay. --dry-run lists what would go.\n", usage);
			return 0;
		default: return cli_usage(usage);
		}
	}
	if (optind != argc || !phone)
		return cli_usage(usage);
	if (cli_e164(phone, e164) < 0)
		return cli_fail("%s is not an international number (+ and 7 to 15 digits)", phone);
	if (by && (!*by || strlen(by) > 200))
		return cli_fail("--by names 1 to 200 characters");
	if (!cli_db(cli))
		return 1;
	who = operator_name(by);
	if (source) {
		const char *sp[] = { source };

		if (!(res = cli_query(cli, source_sql, 1, sp)))
			goto out;
		if (PQntuples(res) == 0) {
			cli_fail("no source %s", source);
			goto out;
		}
		snprintf(source_id, sizeof(source_id), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		res = NULL;
	}
	{
		const char *params[] = { e164, source ? source_id : NULL, dry_run ? "true" : "false", who };

		if (!(res = run_erase(cli, params)))
			goto out;
	}
	if (!(r = json_tokener_parse(PQgetvalue(res, 0, 0)))) {
		cli_fail("erase: unreadable answer");
		goto out;
	}
	if (!dry_run && json_object_object_get_ex(r, "freed_blobs", &freed))
		blobs = remove_freed(cli, freed, &failed);
	if (json)
		printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	else
		report(r, dry_run, blobs);
	rc = failed ? 1 : 0;
out:
	json_object_put(r);
	PQclear(res);
	free(who);
	return rc;
}
