/* ringlog webhook ...: the CRM's subscriptions to events (sql/035), their
 * deliveries, and replays. A new subscription's secret is printed once, in
 * the Standard Webhooks "whsec_<base64>" form; ringlog-fetcherd signs with
 * it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ringlog/buf.h"
#include "ringlog/whsign.h"

static const char usage[] =
	"ringlog webhook add NAME --url URL --events TYPE,... [--source S]\n"
	"       ringlog webhook list\n"
	"       ringlog webhook show NAME\n"
	"       ringlog webhook remove NAME\n"
	"       ringlog webhook rotate-secret NAME [--overlap SECONDS]   (default 86400)\n"
	"       ringlog webhook resume NAME          (a paused or disabled one)\n"
	"       ringlog webhook deliveries NAME [--failed] [--limit N]\n"
	"       ringlog webhook replay ID | --failed --since TIME [--webhook NAME]\n"
	"events: call.stored call.updated call.missed lead.created task.created task.done\n"
	"        recording.ready recording.failed (or all)";

static const char *const event_types[] = {
	"call.stored", "call.updated", "call.missed", "lead.created",
	"task.created", "task.done", "recording.ready", "recording.failed",
};
#define NTYPES (sizeof(event_types) / sizeof(event_types[0]))

/* Checks a comma-separated list of event types and writes it to OUT as a
 * PostgreSQL array literal. "all" is every type. Returns 0 or -1 (printed). */
static int parse_events(const char *text, struct buf *out)
{
	const char *p = text;

	if (strcmp(text, "all") == 0) {
		buf_addch(out, '{');
		for (size_t i = 0; i < NTYPES; i++)
			buf_addf(out, "%s%s", i ? "," : "", event_types[i]);
		buf_addch(out, '}');
		return 0;
	}
	buf_addch(out, '{');
	while (*p) {
		size_t len = strcspn(p, ",");
		bool known = false;

		for (size_t i = 0; i < NTYPES; i++)
			known |= strlen(event_types[i]) == len && strncmp(event_types[i], p, len) == 0;
		if (!known)
			return cli_fail("unknown event type \"%.*s\" (known: call.stored, call.updated, "
					"call.missed, lead.created, task.created, task.done, recording.ready, "
					"recording.failed)", (int)(len > 64 ? 64 : len), p);
		buf_addf(out, "%s%.*s", out->len > 1 ? "," : "", (int)len, p);
		p += len;
		if (*p == ',')
			p++;
	}
	buf_addch(out, '}');
	return out->len > 2 ? 0 : cli_fail("--events names no event type");
}

/* A new key as hex (for decode()) and its whsec_ form. Returns 0 or -1. */
static int new_secret(char hex[2 * WHSIGN_KEY_LEN + 1], struct buf *shown)
{
	unsigned char key[WHSIGN_KEY_LEN];

	if (whsign_key_new(key) < 0)
		return cli_fail("no randomness available");
	for (size_t i = 0; i < sizeof(key); i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	whsign_secret_format(key, sizeof(key), shown);
	return 0;
}

static int add(struct cli *cli, int argc, char **argv)
{
	const char *name = argv[0], *url = NULL, *events = NULL, *source = NULL;
	struct buf types = BUF_INIT, shown = BUF_INIT;
	char hex[2 * WHSIGN_KEY_LEN + 1];
	const char *params[5];
	PGresult *res;
	int rc = 1;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--url") == 0)
			url = argv[i + 1];
		else if (strcmp(argv[i], "--events") == 0)
			events = argv[i + 1];
		else if (strcmp(argv[i], "--source") == 0)
			source = argv[i + 1];
		else
			return cli_usage(usage);
	}
	if (argc % 2 == 0 || !url || !events)
		return cli_usage(usage);
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return cli_fail("a webhook URL starts with https:// (or http://)");
	if (strlen(url) > 2048)
		return cli_fail("a webhook URL has at most 2048 characters");
	if (parse_events(events, &types) < 0 || new_secret(hex, &shown) < 0)
		goto out;
	params[0] = name;
	params[1] = url;
	params[2] = types.data;
	params[3] = source;
	params[4] = hex;
	res = cli_query(cli,
		"INSERT INTO webhooks (name, url, events, source_id, secret, created_by)"
		" SELECT $1, $2, $3::text[], s.id, decode($5, 'hex'), 'cli'"
		"   FROM (SELECT NULL) x LEFT JOIN sources s ON s.name = $4"
		"  WHERE $4::text IS NULL OR s.id IS NOT NULL"
		" ON CONFLICT (name) DO NOTHING RETURNING id", 5, params);
	if (!res)
		goto out;
	if (PQntuples(res) != 1) {
		PQclear(res);
		rc = source ? cli_fail("no webhook added: a webhook %s exists, or no source %s", name, source)
			    : cli_fail("a webhook %s exists", name);
		goto out;
	}
	printf("webhook %s (id %s): %s\nsigning secret (shown once):\n%s\n", name, PQgetvalue(res, 0, 0),
	       url, shown.data);
	PQclear(res);
	rc = 0;
out:
	buf_release(&types);
	buf_release(&shown);
	return rc;
}

static int list(struct cli *cli)
{
	PGresult *res = cli_query(cli,
		"SELECT w.name, w.state, array_to_string(w.events, ','), coalesce(s.name, '*'),"
		" (SELECT count(*) FROM webhook_events e WHERE e.webhook_id = w.id AND e.state = 'pending'),"
		" (SELECT count(*) FROM webhook_events e WHERE e.webhook_id = w.id AND e.state = 'failed'), w.url"
		" FROM webhooks w LEFT JOIN sources s ON s.id = w.source_id ORDER BY w.name", 0, NULL);

	if (!res)
		return 1;
	printf("%-20s %-9s %-8s %-8s %-8s %s\n", "NAME", "STATE", "SOURCE", "PENDING", "FAILED", "URL / EVENTS");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-20s %-9s %-8s %-8s %-8s %s\n%59s%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), PQgetvalue(res, i, 5),
		       PQgetvalue(res, i, 6), "", PQgetvalue(res, i, 2));
	PQclear(res);
	return 0;
}

static int show(struct cli *cli, const char *name)
{
	static const char *const labels[] = { "name", "url", "events", "source", "state", "reason",
					      "failing since", "paused until", "old secret valid until",
					      "created", "pending", "delivered", "failed", "last delivered" };
	const char *params[] = { name };
	PGresult *res = cli_query(cli,
		"SELECT w.name, w.url, array_to_string(w.events, ','), coalesce(s.name, '(all)'), w.state,"
		" w.state_reason, ringlog_utc_text(w.failing_since), ringlog_utc_text(w.pause_until),"
		" CASE WHEN w.old_secret_until > now() THEN ringlog_utc_text(w.old_secret_until) END,"
		" ringlog_utc_text(w.created_at),"
		" (SELECT count(*) FROM webhook_events e WHERE e.webhook_id = w.id AND e.state = 'pending'),"
		" (SELECT count(*) FROM webhook_events e WHERE e.webhook_id = w.id AND e.state = 'delivered'),"
		" (SELECT count(*) FROM webhook_events e WHERE e.webhook_id = w.id AND e.state = 'failed'),"
		" (SELECT ringlog_utc_text(max(e.delivered_at)) FROM webhook_events e WHERE e.webhook_id = w.id)"
		" FROM webhooks w LEFT JOIN sources s ON s.id = w.source_id WHERE w.name = $1", 1, params);

	if (!res)
		return 1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return cli_fail("no webhook %s", name);
	}
	for (int c = 0; c < PQnfields(res); c++)
		if (!PQgetisnull(res, 0, c))
			printf("%-23s %s\n", labels[c], PQgetvalue(res, 0, c));
	PQclear(res);
	return 0;
}

static int one_row(struct cli *cli, const char *sql, int n, const char *const *params, const char *what,
		   const char *done)
{
	PGresult *res = cli_query(cli, sql, n, params);
	long rows;

	if (!res)
		return 1;
	rows = atol(PQcmdTuples(res));
	PQclear(res);
	if (rows == 0)
		return cli_fail("no webhook %s", what);
	printf("%s\n", done);
	return 0;
}

static int rotate(struct cli *cli, const char *name, const char *overlap)
{
	struct buf shown = BUF_INIT;
	char hex[2 * WHSIGN_KEY_LEN + 1];
	const char *params[] = { name, hex, overlap };
	PGresult *res;

	if (!cli_is_number(overlap) || atoll(overlap) < 0 || atoll(overlap) > 30 * 86400)
		return cli_fail("--overlap is 0 to 2592000 seconds");
	if (new_secret(hex, &shown) < 0)
		return 1;
	res = cli_query(cli,
		"UPDATE webhooks SET old_secret = secret, secret = decode($2, 'hex'),"
		" old_secret_until = now() + $3::bigint * interval '1 second'"
		" WHERE name = $1 RETURNING ringlog_utc_text(old_secret_until)", 3, params);
	if (!res || PQntuples(res) != 1) {
		PQclear(res);
		buf_release(&shown);
		return res ? cli_fail("no webhook %s", name) : 1;
	}
	printf("webhook %s: new signing secret (shown once):\n%s\n"
	       "deliveries are signed with both the old and the new secret until %s\n",
	       name, shown.data, PQgetvalue(res, 0, 0));
	PQclear(res);
	buf_release(&shown);
	return 0;
}

static int deliveries(struct cli *cli, const char *name, bool failed, const char *limit)
{
	const char *params[] = { name, failed ? "failed" : NULL, limit };
	PGresult *res;

	if (!cli_is_number(limit) || atoll(limit) < 1 || atoll(limit) > 100000)
		return cli_fail("--limit is 1 to 100000");
	res = cli_query(cli,
		"SELECT e.id, 'msg_' || e.id, e.type, e.object_id, e.state, e.attempts,"
		" coalesce(e.last_status::text, '-'), ringlog_utc_text(e.occurred_at),"
		" coalesce(ringlog_utc_text(e.delivered_at), CASE WHEN e.state = 'pending'"
		"   THEN 'next ' || ringlog_utc_text(e.next_attempt_at) ELSE '-' END), coalesce(e.last_error, '')"
		" FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id"
		" WHERE w.name = $1 AND ($2::text IS NULL OR e.state = $2)"
		" ORDER BY e.id DESC LIMIT $3::bigint", 3, params);
	if (!res)
		return 1;
	printf("%-8s %-12s %-16s %-8s %-9s %-4s %-4s %-22s %s\n", "ID", "WEBHOOK-ID", "TYPE", "OBJECT", "STATE",
	       "TRY", "HTTP", "OCCURRED", "DELIVERED / NEXT / ERROR");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-8s %-12s %-16s %-8s %-9s %-4s %-4s %-22s %s %s\n", PQgetvalue(res, i, 0),
		       PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
		       PQgetvalue(res, i, 5), PQgetvalue(res, i, 6), PQgetvalue(res, i, 7), PQgetvalue(res, i, 8),
		       PQgetvalue(res, i, 9));
	PQclear(res);
	return 0;
}

/* Puts events back in the queue, due now, with their webhook-id and body:
 * one by id (whatever its state), or every failed one since TIME. */
static int replay(struct cli *cli, int argc, char **argv)
{
	const char *since = NULL, *hook = NULL;
	bool failed = false;
	PGresult *res;
	long n;

	if (argc == 1 && cli_is_number(argv[0])) {
		const char *params[] = { argv[0] };

		res = cli_query(cli, "UPDATE webhook_events SET state = 'pending', attempts = 0,"
				     " next_attempt_at = now(), last_error = NULL"
				     " WHERE id = $1::bigint AND state <> 'dropped'", 1, params);
	} else {
		for (int i = 0; i < argc; i++) {
			if (strcmp(argv[i], "--failed") == 0)
				failed = true;
			else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc)
				since = argv[++i];
			else if (strcmp(argv[i], "--webhook") == 0 && i + 1 < argc)
				hook = argv[++i];
			else
				return cli_usage(usage);
		}
		if (!failed || !since)
			return cli_usage(usage);
		const char *params[] = { since, hook };
		res = cli_query(cli, "UPDATE webhook_events e SET state = 'pending', attempts = 0,"
				     " next_attempt_at = now(), last_error = NULL"
				     " WHERE e.state = 'failed' AND e.occurred_at >= $1::timestamptz"
				     "   AND ($2::text IS NULL OR e.webhook_id = (SELECT id FROM webhooks WHERE name = $2))",
				2, params);
	}
	if (!res)
		return 1;
	n = atol(PQcmdTuples(res));
	PQclear(res);
	printf("replaying %ld event%s (same webhook-id; a disabled or paused webhook needs "
	       "`ringlog webhook resume` first)\n", n, n == 1 ? "" : "s");
	return n == 0 && argc == 1 ? 1 : 0;
}

int cmd_webhook(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	const char *params[] = { argc > 2 ? argv[2] : "" };

	if (strcmp(sub, "add") == 0 && argc >= 3)
		return add(cli, argc - 2, argv + 2);
	if (strcmp(sub, "list") == 0 && argc == 2)
		return list(cli);
	if (strcmp(sub, "show") == 0 && argc == 3)
		return show(cli, argv[2]);
	if (strcmp(sub, "remove") == 0 && argc == 3)
		return one_row(cli, "DELETE FROM webhooks WHERE name = $1", 1, params, argv[2],
			       "removed (its pending events with it)");
	if (strcmp(sub, "resume") == 0 && argc == 3)
		return one_row(cli, "UPDATE webhooks SET state = 'active', state_reason = NULL,"
				    " pause_until = NULL, failing_since = NULL WHERE name = $1",
			       1, params, argv[2], "resumed");
	if (strcmp(sub, "rotate-secret") == 0 && (argc == 3 || (argc == 5 && strcmp(argv[3], "--overlap") == 0)))
		return rotate(cli, argv[2], argc == 5 ? argv[4] : "86400");
	if (strcmp(sub, "deliveries") == 0 && argc >= 3) {
		bool failed = false;
		const char *limit = "50";

		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "--failed") == 0)
				failed = true;
			else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
				limit = argv[++i];
			else
				return cli_usage(usage);
		}
		return deliveries(cli, argv[2], failed, limit);
	}
	if (strcmp(sub, "replay") == 0 && argc >= 3)
		return replay(cli, argc - 2, argv + 2);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: %s\n", usage);
		return 0;
	}
	return cli_usage(usage);
}
