#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ringlog/buf.h"
#include "ringlog/text.h"
#include "ringlog/xalloc.h"

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("ringlog: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_usage(const char *usage)
{
	fprintf(stderr, "usage: %s\n", usage);
	return 2;
}

struct blob_store *cli_blobs(struct cli *cli)
{
	struct errbuf e;

	if (!cli->blobs && !(cli->blobs = blob_store_open_config(cli->blob_dir, cli->blobcfg, &e)))
		cli_fail("%s", e.msg);
	return cli->blobs;
}

struct db *cli_db(struct cli *cli)
{
	struct errbuf e;

	if (!cli->db)
		cli->db = db_new(cli->database_url, "ringlog");
	if (db_connect(cli->db, &e) < 0 || db_check_schema(cli->db, &e) < 0) {
		cli_fail("%s", e.msg);
		return NULL;
	}
	return cli->db;
}

char *cli_read_secret(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[1024];
	size_t n;

	if (!f) {
		cli_fail("cannot read the secret from %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < 4096)
		buf_add(&b, chunk, n);
	if (f != stdin)
		fclose(f);
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	if (b.len == 0 || b.len > 1024 || strlen(b.data) != b.len) {
		buf_release(&b);
		cli_fail("the secret in %s must be 1 to 1024 bytes of text", path);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

PGresult *cli_query(struct cli *cli, const char *sql, int nparams, const char *const *params)
{
	PGresult *res;
	ExecStatusType st;

	if (!cli_db(cli))
		return NULL;
	res = PQexecParams(db_conn(cli->db), sql, nparams, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	cli_fail("%s", PQresultErrorMessage(res));
	PQclear(res);
	return NULL;
}

bool cli_is_number(const char *text)
{
	char *end;

	errno = 0;
	(void)strtoll(text, &end, 10);
	return *text && !*end && !errno;
}

const char *cli_safe(const char *text)
{
	static struct buf slots[CLI_SAFE_SLOTS];
	static unsigned next;
	struct buf *b = &slots[next++ % CLI_SAFE_SLOTS];

	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
	text_escape(text ? text : "", b);
	return buf_str(b);
}
