/* GET /v1/export.csv: the accountants' export, streamed from PostgreSQL's
 * COPY ... TO STDOUT through libmicrohttpd's callback response, row by row
 * as the client reads: constant memory whatever the size, first byte at
 * once. The stream takes the worker thread's own connection for its whole
 * life (db_take_from_thread), so other requests on that thread get a fresh
 * one meanwhile; a client that leaves mid-stream has its COPY cancelled and
 * drained, and the connection goes back to the thread ready for the next
 * query. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher.h"
#include "ringlog/xalloc.h"

#define EXPORT_BLOCK (64 * 1024)

static const char bom[] = "\xEF\xBB\xBF";

static struct metric exports_complete = METRIC_COUNTER_INIT(
	"ringlog_exports_total", "outcome=\"complete\"", "CSV exports, by how they ended.");
static struct metric exports_cancelled =
	METRIC_COUNTER_INIT("ringlog_exports_total", "outcome=\"cancelled\"", "");
static struct metric exports_failed =
	METRIC_COUNTER_INIT("ringlog_exports_total", "outcome=\"failed\"", "");
static struct metric export_rows =
	METRIC_COUNTER_INIT("ringlog_export_rows_total", NULL, "Calls written to CSV exports.");

void fetcher_export_metrics_register(void)
{
	metrics_register(&exports_complete);
	metrics_register(&exports_cancelled);
	metrics_register(&exports_failed);
	metrics_register(&export_rows);
}

struct export {
	struct fetcher *f;
	struct db *db;        /* the worker's connection, taken for the stream */
	char *row;            /* a row from PQgetCopyData not yet (fully) sent */
	size_t row_len, row_off;
	size_t bom_left;      /* bytes of the BOM still to send */
	bool done, failed;
	long long rows, bytes;
	int64_t start_ns;
	char request_id[65];
	int phone_style;      /* enum phone_style of caller and callee */
	char delimiter, region[3];
};

/* Takes the next row. Returns 1 with X->row set, 0 when none is ready yet
 * (only when !BLOCK), -1 at the end of the COPY or on failure. */
static int next_row(struct export *x, bool block)
{
	PGconn *conn = db_conn(x->db);
	PGresult *res;
	char *row;
	int len;

	if (x->done || x->failed)
		return -1;
	len = PQgetCopyData(conn, &row, block ? 0 : 1);
	if (len == 0 && PQconsumeInput(conn))
		len = PQgetCopyData(conn, &row, 1);
	if (len > 0 && x->rows > 0 && x->phone_style != PHONE_STYLE_E164) {
		char *formatted = fetcher_export_phones(row, &len, x->delimiter, x->phone_style,
							x->region[0] ? x->region : NULL);

		if (formatted) { /* PQfreemem() is free(): it frees this one too */
			PQfreemem(row);
			row = formatted;
		}
	}
	if (len > 0) {
		/* libpq ends the row with '\n' and a NUL after it: room for the
		 * CR LF that RFC 4180 asks for between records. Quoted line
		 * breaks inside a cell are not touched: a row is a record. */
		if (row[len - 1] == '\n') {
			row[len - 1] = '\r';
			row[len++] = '\n';
		}
		x->row = row;
		x->row_len = (size_t)len;
		x->row_off = 0;
		x->rows++;
		return 1;
	}
	if (len == 0)
		return 0;
	while ((res = PQgetResult(conn))) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_msg(LOG_ERR, "export failed: request id=%s: %s", x->request_id,
				PQresultErrorMessage(res));
			x->failed = true;
		}
		PQclear(res);
	}
	if (len == -2) {
		log_msg(LOG_ERR, "export failed: request id=%s: %s", x->request_id, PQerrorMessage(conn));
		x->failed = true;
	}
	x->done = !x->failed;
	return -1;
}

static ssize_t export_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct export *x = cls;
	size_t n = 0;

	(void)pos;
	if (x->bom_left) {
		n = x->bom_left < max ? x->bom_left : max;
		memcpy(buf, bom + (3 - x->bom_left), n);
		x->bom_left -= n;
	}
	/* Blocks for the first row only: once there is something to send,
	 * send it rather than wait for more. */
	while (n < max && (x->row || next_row(x, n == 0) > 0)) {
		size_t take = x->row_len - x->row_off;

		if (take > max - n)
			take = max - n;
		memcpy(buf + n, x->row + x->row_off, take);
		n += take;
		x->row_off += take;
		if (x->row_off == x->row_len) {
			PQfreemem(x->row);
			x->row = NULL;
		}
	}
	x->bytes += (long long)n;
	if (n)
		return (ssize_t)n;
	/* A failure mid-stream cuts the chunked body short: the client sees
	 * an incomplete transfer, never a CSV that merely looks complete. */
	return x->failed ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
}

/* The client went away mid-stream: stop the query and read what is still
 * on the wire, so the connection can serve the next request. */
static void cancel_copy(struct export *x)
{
	PGconn *conn = db_conn(x->db);
	PGcancel *cancel = conn ? PQgetCancel(conn) : NULL;
	char err[256];
	PGresult *res;
	char *row;

	if (!conn)
		return;
	if (cancel && !PQcancel(cancel, err, sizeof(err)))
		log_msg(LOG_WARNING, "export not cancelled: request id=%s: %s", x->request_id, err);
	PQfreeCancel(cancel);
	while (PQgetCopyData(conn, &row, 0) > 0)
		PQfreemem(row);
	while ((res = PQgetResult(conn)))
		PQclear(res);
}

static void export_release(void *cls)
{
	struct export *x = cls;
	const char *outcome = x->done ? "complete" : x->failed ? "failed" : "cancelled";

	if (x->row)
		PQfreemem(x->row);
	if (!x->done && !x->failed)
		cancel_copy(x);
	metrics_inc(x->done ? &exports_complete : x->failed ? &exports_failed : &exports_cancelled);
	metrics_add(&export_rows, (unsigned long long)(x->rows > 1 ? x->rows - 1 : 0));
	log_msg(x->done ? LOG_INFO : LOG_NOTICE, "export id=%s outcome=%s rows=%lld bytes=%lld ms=%.1f",
		x->request_id, outcome, x->rows > 1 ? x->rows - 1 : 0, x->bytes,
		(double)(http_monotonic_ns() - x->start_ns) / 1e6);
	db_return_to_thread(x->db); /* frees it if the cancel left it unusable */
	atomic_fetch_sub(&x->f->exports, 1);
	free(x);
}

/* ---- starting an export ------------------------------------------------- */

/* COPY takes no parameters, so PostgreSQL itself writes the statement with
 * format(): every value goes in as a quoted literal (%L), none is pasted by
 * us, and the planner sees real values (good row estimates, so hash joins
 * for 1M rows). JIT is switched off for the session: compiling this query
 * costs seconds before the first row, more than it ever saves. */
static const struct db_stmt plan_stmt = {
	"fetcher_export_plan",
	"SELECT lo < hi, to_char(lo AT TIME ZONE $1, 'YYYY-MM-DD'),"
	" to_char((hi - interval '1 microsecond') AT TIME ZONE $1, 'YYYY-MM-DD'),"
	" format('COPY (SELECT * FROM ringlog_export_calls(%L, %L, %L, %L, %L, %L))"
	" TO STDOUT WITH (FORMAT csv, HEADER true, ENCODING %L, DELIMITER %L)',"
	"  ringlog_utc_text(lo), ringlog_utc_text(hi), $1::text, $4::text, $5::text, $6::text,"
	" 'UTF8', $7::text),"
	" set_config('jit', 'off', false)"
	" FROM (SELECT ringlog_query_bound($2, $1, false) AS lo,"
	"              ringlog_query_bound($3, $1, true) AS hi) b",
	7
};

struct export_query {
	const char *params[7]; /* tz, from, to, source id, agent, direction, delimiter */
	char source_id[24], region[3];
	int phone_style;
	bool bom;
	struct source_set *set;
};

static int read_params(struct fetcher *f, struct http_request *req, struct export_query *q,
		       struct fetcher_bad *b)
{
	static const char *const allowed[] = { "from", "to", "tz", "source", "agent", "direction",
					       "delimiter", "bom", "phone_format", NULL };
	static const char *const phone_formats[] = { "e164", "international", "national", NULL };
	const char *phone_format;
	static const char *const directions[] = { "in", "out", "internal", NULL };
	static const char *const delimiters[] = { ",", ";", "\t", "tab", NULL };
	const struct source *src;
	int bom_flag;

	if (fetcher_params_known(req, allowed, b) < 0 || fetcher_param_tz(f, req, &q->params[0], b) < 0 ||
	    fetcher_param_time(req, "from", &q->params[1], b) < 0 ||
	    fetcher_param_time(req, "to", &q->params[2], b) < 0 ||
	    fetcher_param_source(f, req, &q->set, &src, b) < 0 ||
	    fetcher_param_text(req, "agent", 256, &q->params[4], b) < 0 ||
	    fetcher_param_choice(req, "direction", directions, &q->params[5], b) < 0 ||
	    fetcher_param_choice(req, "delimiter", delimiters, &q->params[6], b) < 0 ||
	    fetcher_param_bool(req, "bom", &bom_flag, b) < 0 ||
	    fetcher_param_choice(req, "phone_format", phone_formats, &phone_format, b) < 0)
		return -1;
	q->phone_style = phone_format ? phone_style_parse(phone_format) : PHONE_STYLE_E164;
	if (src)
		phone_plan_region(&src->phone, q->region);
	if (!q->params[1] || !q->params[2])
		return fetcher_bad(b, "missing_parameter", q->params[1] ? "to" : "from",
				   "an export needs from and to (dates such as 2025-06-01; to is inclusive)");
	if (src)
		snprintf(q->source_id, sizeof(q->source_id), "%lld", src->id), q->params[3] = q->source_id;
	if (!q->params[6])
		q->params[6] = ",";
	else if (strcmp(q->params[6], "tab") == 0)
		q->params[6] = "\t";
	q->bom = bom_flag == 1;
	return 0;
}

/* Plans the export and starts the COPY on X->db; FILENAME receives the
 * attachment's name. Returns 0, or -1 having answered: 400 for a range that
 * ends before it starts, 5xx when the database fails. */
static int start_copy(struct http_request *req, struct export *x, const struct export_query *q,
		      struct buf *filename, enum MHD_Result *rc)
{
	struct errbuf e;
	PGresult *res = db_exec(x->db, &plan_stmt, q->params, &e);
	struct fetcher_bad b;
	PGresult *copy;
	ExecStatusType st;

	if (!res) {
		*rc = fetcher_reply_db_error(req, x->db, "export", &e);
		return -1;
	}
	if (PQgetvalue(res, 0, 0)[0] != 't') {
		PQclear(res);
		fetcher_bad(&b, "invalid_parameter", "to", "to is before from: the range is empty");
		*rc = fetcher_reply_bad(req, &b);
		return -1;
	}
	buf_addf(filename, "attachment; filename=\"calls-%s_%s.csv\"", PQgetvalue(res, 0, 1),
		 PQgetvalue(res, 0, 2));
	copy = PQexec(db_conn(x->db), PQgetvalue(res, 0, 3));
	PQclear(res);
	st = PQresultStatus(copy);
	if (st == PGRES_COPY_OUT) {
		PQclear(copy);
		return 0;
	}
	err_set(&e, "%s", copy ? PQresultErrorMessage(copy) : PQerrorMessage(db_conn(x->db)));
	PQclear(copy);
	log_msg(LOG_ERR, "export failed: request id=%s: %s", req->id, e.msg);
	*rc = http_reply_error(req, 500, "export_failed", "the database refused the export");
	return -1;
}

enum MHD_Result fetcher_handle_export(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	struct export_query q = { 0 };
	struct buf filename = BUF_INIT;
	struct export *x = NULL;
	struct fetcher_bad b;
	enum MHD_Result rc;

	if (!fetcher_authorized(f, req, &rc))
		return rc;
	if (read_params(f, req, &q, &b) < 0) {
		rc = fetcher_reply_bad(req, &b);
		goto out;
	}
	if (atomic_fetch_add(&f->exports, 1) >= f->cfg->max_exports) {
		atomic_fetch_sub(&f->exports, 1);
		http_add_header(req, "Retry-After", "10");
		rc = http_reply_error(req, 503, "too_many_exports", "%lld exports are streaming; try again shortly",
				      f->cfg->max_exports);
		goto out;
	}
	x = xcalloc(1, sizeof(*x));
	x->f = f;
	x->start_ns = http_monotonic_ns();
	x->bom_left = q.bom ? 3 : 0;
	x->phone_style = q.phone_style;
	x->delimiter = q.params[6][0];
	memcpy(x->region, q.region, sizeof(x->region));
	snprintf(x->request_id, sizeof(x->request_id), "%s", req->id);
	x->db = *f->cfg->database_read_url
		? db_take_from_thread_slot(DB_SLOT_READ, f->cfg->database_read_url, "ringlog-fetcherd read")
		: db_take_from_thread(f->cfg->database_url, "ringlog-fetcherd");
	if (start_copy(req, x, &q, &filename, &rc) < 0) {
		db_return_to_thread(x->db);
		atomic_fetch_sub(&f->exports, 1);
		free(x);
		goto out;
	}
	http_add_header(req, MHD_HTTP_HEADER_CONTENT_DISPOSITION, buf_str(&filename));
	http_add_header(req, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	http_add_header(req, "X-Content-Type-Options", "nosniff");
	req->log_outcome = "export";
	rc = http_reply_stream(req, 200, "text/csv; charset=utf-8; header=present", EXPORT_BLOCK,
			       export_read, x, export_release);
out:
	source_set_unref(q.set);
	buf_release(&filename);
	return rc;
}
