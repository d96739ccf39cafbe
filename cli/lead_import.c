/* ringlog lead import FILE.csv: leads from a CRM export. The first line
 * names the columns (phone is required; name, company, crm_id, crm_url,
 * responsible, status are optional, in any order). Every row is checked
 * before anything is written; then all are written in one transaction by
 * the lead rules' one home, ringlog_upsert_leads (as the CRM sync): a row
 * with a crm_id updates the lead with that id, one without updates the
 * oldest open lead of its number, and otherwise a lead is added and takes
 * its number's earlier calls. Empty cells leave what a lead has. Running an
 * import twice changes nothing (`0 updated, N unchanged`). --dry-run does
 * it all in a transaction that is rolled back, so its counts are exact. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lead.h"
#include "ringlog/buf.h"
#include "ringlog/csv.h"
#include "ringlog/form.h"
#include "ringlog/lead.h"
#include "ringlog/xalloc.h"

#define IMPORT_MAX_BYTES (1LL << 30)
#define IMPORT_MAX_ERRORS 20

enum column { COL_PHONE, COL_NAME, COL_COMPANY, COL_CRM_ID, COL_CRM_URL, COL_RESPONSIBLE, COL_STATUS, NCOLS };

/* Header names for each column, aliases after the first. */
static const char *const column_names[NCOLS][5] = {
	[COL_PHONE] = { "phone", "phone_number", "number", "telephone", NULL },
	[COL_NAME] = { "name", "full_name", "client", NULL },
	[COL_COMPANY] = { "company", "organisation", "organization", NULL },
	[COL_CRM_ID] = { "crm_id", "id", NULL },
	[COL_CRM_URL] = { "crm_url", "url", NULL },
	[COL_RESPONSIBLE] = { "responsible", "owner", NULL },
	[COL_STATUS] = { "status", NULL },
};

/* The lead rows: E.164 phone, then the cells of the other columns (NULL
 * when empty or absent). */
struct row {
	char e164[PHONE_E164_LEN];
	char *v[NCOLS];
};

struct import {
	struct lead_plan plan;
	char delimiter;
	bool dry_run, skip_invalid;
	int index[NCOLS]; /* column of the file, or -1 */
	struct row *rows;
	size_t nrows, invalid;
};

static int read_file(const char *path, struct buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char chunk[65536];
	size_t n;

	if (!f)
		return cli_fail("cannot read %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && (long long)b->len < IMPORT_MAX_BYTES)
		buf_add(b, chunk, n);
	if (f != stdin)
		fclose(f);
	if ((long long)b->len >= IMPORT_MAX_BYTES)
		return cli_fail("%s is larger than 1 GiB", path);
	if (!form_is_utf8(buf_str(b), b->len))
		return cli_fail("%s is not UTF-8 text (export it as CSV UTF-8)", path);
	return 0;
}

static int map_header(struct import *im, const struct csv_record *h)
{
	for (int c = 0; c < NCOLS; c++) {
		im->index[c] = -1;
		for (size_t i = 0; i < h->n && im->index[c] < 0; i++) {
			const char *name = h->fields[i];

			if (i == 0 && strncmp(name, "\xEF\xBB\xBF", 3) == 0) /* a spreadsheet's BOM */
				name += 3;
			for (int a = 0; column_names[c][a]; a++)
				if (strcasecmp(name, column_names[c][a]) == 0)
					im->index[c] = (int)i;
		}
	}
	if (im->index[COL_PHONE] < 0)
		return cli_fail("the first line must name the columns, one of them \"phone\"");
	return 0;
}

static char *cell(const struct import *im, const struct csv_record *r, int c)
{
	const char *v;
	size_t len;

	if (im->index[c] < 0 || (size_t)im->index[c] >= r->n)
		return NULL;
	v = r->fields[im->index[c]];
	while (*v == ' ')
		v++;
	len = strlen(v);
	while (len && v[len - 1] == ' ')
		len--;
	return len ? xstrndup(v, len) : NULL;
}

/* The text cells, checked as the API checks them (lead.h). */
static int check_fields(const struct row *row, struct errbuf *e)
{
	static const struct { enum column c; const char *field; } text[] = {
		{ COL_NAME, "name" }, { COL_COMPANY, "company" }, { COL_CRM_ID, "crm_id" },
		{ COL_CRM_URL, "crm_url" }, { COL_RESPONSIBLE, "responsible" },
	};

	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (row->v[text[i].c] && lead_check_field(text[i].field, row->v[text[i].c], e) < 0)
			return -1;
	return 0;
}

/* Checks record R and keeps it. Returns 0, or -1 with E saying why not. */
static int check_row(struct import *im, const struct csv_record *r, struct errbuf *e)
{
	struct row row = { .v = { NULL } };
	const char *status;
	int rc = -1;

	for (int c = 0; c < NCOLS; c++)
		row.v[c] = cell(im, r, c);
	status = row.v[COL_STATUS];
	if (!row.v[COL_PHONE])
		err_set(e, "no phone");
	else if (lead_phone(&im->plan, row.v[COL_PHONE], row.e164, e) < 0)
		;
	else if (status && strcmp(status, "open") != 0 && strcmp(status, "closed") != 0)
		err_set(e, "status \"%.20s\" is neither open nor closed", status);
	else
		rc = check_fields(&row, e);
	if (rc == 0) {
		im->rows = xrealloc(im->rows, (im->nrows + 1) * sizeof(*im->rows));
		im->rows[im->nrows++] = row;
		return 0;
	}
	for (int c = 0; c < NCOLS; c++)
		free(row.v[c]);
	return -1;
}

static int parse(struct import *im, const struct buf *b)
{
	struct csv_record rec = CSV_RECORD_INIT;
	size_t at = 0;
	long n, line = 0;
	struct errbuf e;

	while ((n = csv_next(b->data + at, b->len - at, im->delimiter, &rec, &e)) > 0) {
		at += (size_t)n;
		line++;
		if (rec.n == 1 && !rec.fields[0][0])
			continue; /* a blank line */
		if (line == 1 ? map_header(im, &rec) : 0)
			break;
		if (line > 1 && check_row(im, &rec, &e) < 0 && ++im->invalid <= IMPORT_MAX_ERRORS)
			cli_fail("line %ld: %s%s", line, e.msg,
				 im->invalid == IMPORT_MAX_ERRORS ? " (further errors are only counted)" : "");
	}
	csv_record_release(&rec);
	if (n < 0)
		return cli_fail("line %ld: %s", line + 1, e.msg);
	return line == 0 ? cli_fail("the file is empty") : im->index[COL_PHONE] < 0;
}

/* ---- writing ------------------------------------------------------------ */

#define IMPORT_BATCH 500   /* leads per statement */
#define IMPORT_SHOWN 5     /* rows a dry run shows of each kind */

enum outcome { OUT_ADDED, OUT_UPDATED, OUT_UNCHANGED, NOUTCOMES };
static const char *const outcome_sql[NOUTCOMES] = { "created", "updated", "unchanged" };

/* The lead rules' one home (sql/functions/ringlog_upsert_leads.sql): each
 * number's lock, finding a lead by CRM id or number, the back-fill of its
 * earlier calls. One row per lead, in order. */
static const struct db_stmt upsert_stmt = {
	"lead_import_upsert",
	"SELECT outcome FROM ringlog_upsert_leads($1::jsonb)", 1
};

/* Numbers in ascending order (E.164 digits: shorter is smaller), file order
 * among equal ones: the batches of one transaction then take the numbers'
 * locks in one order, as ringlog_upsert_leads does within a batch. */
static const struct import *sorting;

static int cmp_rows(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const char *p = sorting->rows[x].e164, *q = sorting->rows[y].e164;
	size_t lp = strlen(p), lq = strlen(q);
	int c = lp != lq ? (lp < lq ? -1 : 1) : strcmp(p, q);

	return c ? c : (x < y ? -1 : x > y);
}

/* The lead of row R as the JSON the upsert reads: empty cells left out. */
static json_object *row_json(const struct row *r)
{
	static const char *const keys[NCOLS] = { "phone", "name", "company", "crm_id",
						 "crm_url", "responsible", "status" };
	json_object *o = json_object_new_object();

	json_object_object_add(o, "phone", json_object_new_string(r->e164));
	for (int c = 1; c < NCOLS; c++)
		if (r->v[c])
			json_object_object_add(o, keys[c], json_object_new_string(r->v[c]));
	return o;
}

/* Upserts rows ORDER[FROM..TO) in one statement; their outcomes into OUT. */
static int write_batch(struct db *db, const struct import *im, const size_t *order, size_t from,
		       size_t to, unsigned char *out, struct errbuf *e)
{
	json_object *batch = json_object_new_array();
	const char *params[1];
	PGresult *res;
	int rc = -1;

	for (size_t i = from; i < to; i++)
		json_object_array_add(batch, row_json(&im->rows[order[i]]));
	params[0] = json_object_to_json_string_ext(batch, JSON_C_TO_STRING_PLAIN);
	res = db_exec(db, &upsert_stmt, params, e);
	if (res && (size_t)PQntuples(res) == to - from) {
		for (size_t i = from; i < to; i++) {
			const char *o = PQgetvalue(res, (int)(i - from), 0);

			out[order[i]] = OUT_UNCHANGED;
			for (int k = 0; k < NOUTCOMES; k++)
				if (strcmp(o, outcome_sql[k]) == 0)
					out[order[i]] = (unsigned char)k;
		}
		rc = 0;
	} else if (res) {
		err_set(e, "the upsert answered %d rows for %zu leads", PQntuples(res), to - from);
	}
	PQclear(res);
	json_object_put(batch);
	return rc;
}

/* All rows in one transaction, committed unless a dry run; outcomes per
 * row (file order) into OUT. Progress on stderr when it is a terminal. */
static int write_rows(struct cli *cli, struct import *im, unsigned char *out)
{
	struct db *db = cli_db(cli);
	bool progress = isatty(STDERR_FILENO) && im->nrows > IMPORT_BATCH;
	size_t *order = xcalloc(im->nrows + 1, sizeof(*order));
	struct errbuf e, ignored;
	int rc = 1;

	if (!db || db_command(db, "BEGIN", &e) < 0) {
		free(order);
		return db ? cli_fail("%s", e.msg) : 1;
	}
	for (size_t i = 0; i < im->nrows; i++)
		order[i] = i;
	sorting = im;
	qsort(order, im->nrows, sizeof(*order), cmp_rows);
	for (size_t i = 0; i < im->nrows; i += IMPORT_BATCH) {
		size_t to = i + IMPORT_BATCH < im->nrows ? i + IMPORT_BATCH : im->nrows;

		if (write_batch(db, im, order, i, to, out, &e) < 0) {
			if (progress)
				fputc('\n', stderr);
			cli_fail("%s; nothing was imported", e.msg);
			goto rollback;
		}
		if (progress)
			fprintf(stderr, "\r%zu of %zu leads %s", to, im->nrows,
				im->dry_run ? "checked" : "written");
	}
	if (progress)
		fputc('\n', stderr);
	if (!im->dry_run) {
		if (db_command(db, "COMMIT", &e) < 0)
			cli_fail("%s", e.msg);
		else
			rc = 0;
		goto out;
	}
	rc = 0; /* a dry run: what the import would do, then nothing of it */
rollback:
	/* A lost connection rolls back as well. */
	if (db_command(db, "ROLLBACK", &ignored) < 0)
		rc = cli_fail("(the connection is gone: %s)", ignored.msg);
out:
	free(order);
	return rc;
}

static void release(struct import *im)
{
	for (size_t i = 0; i < im->nrows; i++)
		for (int c = 0; c < NCOLS; c++)
			free(im->rows[i].v[c]);
	free(im->rows);
	lead_plan_release(&im->plan);
}

static int parse_args(int argc, char **argv, struct import *im)
{
	static const struct option opts[] = {
		{ "delimiter", required_argument, NULL, 'd' }, { "dry-run", no_argument, NULL, 'n' },
		{ "skip-invalid", no_argument, NULL, 's' },    { "help", no_argument, NULL, 'h' },
		LEAD_PLAN_OPTIONS,			       { NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'd' && strlen(optarg) == 1 && !strchr("\"\r\n", optarg[0]))
			im->delimiter = optarg[0];
		else if (c == 'd')
			return cli_fail("--delimiter is one character, like , or ; or a tab");
		else if (c == 'n')
			im->dry_run = true;
		else if (c == 's')
			im->skip_invalid = true;
		else if (c == 'h' || !lead_plan_option(&im->plan, c, optarg))
			return cli_usage("ringlog lead import FILE.csv [--delimiter C] [--dry-run] "
					 "[--skip-invalid] [--source NAME | --country-code CC ...]");
	}
	return optind + 1 == argc ? 0 : cli_usage("ringlog lead import FILE.csv [OPTIONS]");
}

/* The first rows of kind K, as the user wrote them. */
static void show(const struct import *im, const unsigned char *out, enum outcome k, const char *verb)
{
	size_t shown = 0;

	for (size_t i = 0; i < im->nrows && shown < IMPORT_SHOWN; i++) {
		if (out[i] != k)
			continue;
		printf("  would %s +%s%s%s\n", verb, im->rows[i].e164, im->rows[i].v[COL_NAME] ? "  " : "",
		       im->rows[i].v[COL_NAME] ? im->rows[i].v[COL_NAME] : "");
		shown++;
	}
}

int lead_import(struct cli *cli, int argc, char **argv)
{
	struct import im = { .delimiter = ',' };
	struct buf b = BUF_INIT;
	size_t n[NOUTCOMES] = { 0 };
	unsigned char *out = NULL;
	int rc;

	rc = parse_args(argc, argv, &im);
	if (rc || (rc = lead_plan_resolve(cli, &im.plan)) || (rc = read_file(argv[optind], &b)) ||
	    (rc = parse(&im, &b)))
		goto out;
	if (im.invalid && !im.skip_invalid) {
		rc = cli_fail("%zu invalid rows: nothing was imported (--skip-invalid imports the others)",
			      im.invalid);
		goto out;
	}
	out = xcalloc(im.nrows + 1, 1);
	if ((rc = write_rows(cli, &im, out)))
		goto out;
	for (size_t i = 0; i < im.nrows; i++)
		n[out[i]]++;
	if (im.dry_run) {
		printf("%zu leads checked (dry run, nothing written): %zu would be added, %zu updated, "
		       "%zu unchanged; %zu invalid rows skipped\n",
		       im.nrows, n[OUT_ADDED], n[OUT_UPDATED], n[OUT_UNCHANGED], im.invalid);
		show(&im, out, OUT_ADDED, "add");
		show(&im, out, OUT_UPDATED, "update");
	} else {
		printf("%zu leads imported: %zu added, %zu updated, %zu unchanged; %zu invalid rows skipped\n",
		       im.nrows, n[OUT_ADDED], n[OUT_UPDATED], n[OUT_UNCHANGED], im.invalid);
	}
out:
	free(out);
	buf_release(&b);
	release(&im);
	return rc;
}
