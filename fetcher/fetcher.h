/* ringlog-fetcherd's private parts: its configuration and the state its
 * handlers share. */
#ifndef RINGLOG_FETCHER_H
#define RINGLOG_FETCHER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "ringlog/audio.h"
#include "ringlog/blob.h"
#include "ringlog/buf.h"
#include "ringlog/conf.h"
#include "ringlog/db.h"
#include "ringlog/http.h"
#include "ringlog/phone.h"
#include "ringlog/sign.h"
#include "ringlog/source.h"

struct fetcher_config {
	char *database_url;
	char *database_read_url; /* a streaming replica for reads; empty: the primary */
	char *listen;
	long long threads;
	long long max_body;
	long long timeout_s;
	long long header_timeout_s, min_body_rate; /* slow clients */
	long long max_connections;
	long long max_connections_per_ip;
	char *signing_key_file;
	char *privacy_key_file;
	long long play_url_ttl_s;
	char *public_url;
	long long click2call_timeout_s;
	long long live_ringing_timeout_s, live_talking_timeout_s;
	long long live_stall_timeout_s;
	char *ui_dir;
	char *ui_frame_ancestors;
	long long ui_session_ttl_s;
	long long source_refresh_s;
	long long shutdown_grace_s;
	long long max_exports;
	char *tls_cert, *tls_key;
	char *log_level;
	char *blob_dir;
	long long recording_max;
	struct blob_config blobcfg; /* [recordings] store, s3_*, store_format */
	long long fetch_workers;
	long long fetch_connect_timeout_s, fetch_timeout_s;
	long long fetch_retry_base_s, fetch_retry_max_s, fetch_max_attempts;
	bool prefetch;
	long long prefetch_concurrency, prefetch_interval_s;
	long long webhook_workers, webhook_poll_ms, webhook_batch;
	long long webhook_connect_timeout_s, webhook_timeout_s;
	long long webhook_retry_base_s, webhook_retry_max_s, webhook_retry_for_s, webhook_pause_after_s;
	char *webhook_allow_hosts;
	long long webhook_keep_s, webhook_keep_failed_s;
};

extern const struct conf_key fetcher_conf_keys[];
extern const size_t fetcher_conf_nkeys;

struct ui;
struct live_hub;
struct fetcher_zones;

struct fetcher {
	const struct fetcher_config *cfg;
	struct sign_key sign_key;
	struct source_cache *sources;
	struct ui *ui; /* the page's files, or NULL when not installed */
	struct live_hub *live;
	struct fetcher_zones *zones; /* IANA names PostgreSQL knows, loaded at start */
	atomic_int exports;          /* CSV exports streaming now */
	struct blob_store *blobs;        /* recordings */
	enum audio_store_format store_format;
	struct rec_engine *recordings;   /* fetches from PBXs (recordings.h) */
	struct webhooks *webhooks;       /* delivery workers (webhooks.c) */
};

/* The route table of the daemon (ends with a NULL handler). */
extern const struct http_route fetcher_routes[];

struct rec_engine;

/* GET|HEAD /v1/recordings/{id}: a recording, by bearer token or signed URL. */
enum MHD_Result fetcher_handle_recording(struct http_request *req, void *app);

/* The calling worker thread's database connection. */
struct db *fetcher_db(struct fetcher *f);
/* Its connection for reads that may lag a little (call log, leads, tasks,
 * export): to [fetcher] database_read_url, a streaming replica, when set;
 * the primary otherwise. Every write goes through fetcher_db(). */
struct db *fetcher_read_db(struct fetcher *f);
/* Registers the gauges read from the database and the process metrics. */
void fetcher_db_metrics_register(struct fetcher *f);

/* Checks "Authorization: Bearer <token>": an API token (api_tokens) or a
 * UI session token. Returns true when the request may go on (req->user
 * then names the token or the session's user); otherwise it has answered
 * 401 (no, unknown or expired token, with WWW-Authenticate) or 403
 * (revoked), or 503, and *RC holds what the handler must return. */
bool fetcher_authorized(struct fetcher *f, struct http_request *req, enum MHD_Result *rc);
/* As fetcher_authorized, but only for the CRM's backend: a browser's UI
 * session is refused (403). */
bool fetcher_authorized_backend(struct fetcher *f, struct http_request *req, enum MHD_Result *rc);
/* As fetcher_authorized, also taking the token from ?token= (for what a
 * browser opens without headers: an EventSource). */
bool fetcher_authorized_or_query(struct fetcher *f, struct http_request *req, enum MHD_Result *rc);
/* Appends a UI session token for USER valid until EXPIRES (unix time),
 * opened by the API token REQ was authorized with (revoking it ends the
 * session). */
void fetcher_ui_token(const struct fetcher *f, const struct http_request *req, const char *user,
		      long long expires, struct buf *out);
/* Whether REQ acts through a UI session (req->user is then a CRM user). */
bool fetcher_is_session(const struct http_request *req);

/* Click-to-call (click2call.c). */
enum MHD_Result fetcher_handle_click2call(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_click2call_show(struct http_request *req, void *app);

/* Calls in progress (live.c): the list, and a stream of it. The hub must be
 * stopped before the HTTP server (no stream may stay suspended). */
struct live_hub *fetcher_live_start(struct fetcher *f, struct errbuf *e);
void fetcher_live_stop(struct live_hub *hub);
void fetcher_live_free(struct live_hub *hub);
enum MHD_Result fetcher_handle_live(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_live_stream(struct http_request *req, void *app);

/* The reference page (ui.c): files of DIR read into memory; NULL with E. */
struct ui *fetcher_ui_load(const char *dir, struct errbuf *e);
void fetcher_ui_free(struct ui *ui);
enum MHD_Result fetcher_handle_ui(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_ui_session(struct http_request *req, void *app);

/* The signed URL a browser plays recording ID with, valid for
 * play_url_ttl seconds from NOW: "{public_url}/v1/recordings/{id}?expires=
 * {unix}&u={hex USER}&sig={hex}". Appended to OUT. USER (who asked for the
 * link: the audit trail names them for the play) is signed with it; the
 * recordings endpoint checks it with fetcher_play_signature_ok(). */
#define FETCHER_SIGN_RECORDING "recording"
#define FETCHER_PLAY_USER_MAX 256
void fetcher_play_url(const struct fetcher *f, long long id, const char *user, long long now,
		      struct buf *out);
/* Checks a play link's EXPIRES, U (hex user, may be NULL: a link of an
 * older version) and SIG at NOW. *USER is the decoded user (caller frees)
 * or NULL. */
enum sign_status fetcher_play_signature(const struct fetcher *f, long long id, const char *expires,
					const char *u, const char *sig, long long now, char **user);

/* The objects the API returns for GET /v1/calls/{id}, /v1/leads/{id} and a
 * task, read with DB: *OUT is a new object (caller puts it) or NULL when
 * there is no such row; USER (or NULL) is named in play links. Returns 0, or -1 with E filled (database). Webhook
 * events carry the same objects (webhooks.c). */
int fetcher_call_object(struct fetcher *f, struct db *db, long long id, const char *user,
			json_object **out, struct errbuf *e) RL_MUST_CHECK;
int fetcher_lead_object(struct fetcher *f, struct db *db, long long id, json_object **out,
			struct errbuf *e) RL_MUST_CHECK;
int fetcher_task_object(struct db *db, long long id, json_object **out, struct errbuf *e) RL_MUST_CHECK;

/* ---- webhook delivery (webhooks.c) ---------------------------------------- */
struct webhooks;
/* Starts webhook_workers delivery threads (none when 0). NULL with E. */
struct webhooks *fetcher_webhooks_start(struct fetcher *f, struct errbuf *e);
/* Stops them: deliveries in flight are cut (their events come back). */
void fetcher_webhooks_stop(struct webhooks *w);
void fetcher_webhooks_metrics_register(void);
/* The subscriptions through the API (webhook_api.c), for the CRM's backend. */
enum MHD_Result fetcher_handle_webhooks(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_webhook(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_webhook_rotate(struct http_request *req, void *app);

/* ---- links (links.c) ----------------------------------------------------- */

/* Completes CALL as the database built it: each recording gets a signed
 * play_url valid from NOW when playing it can work, else play_url null and
 * unavailable_reason / unavailable_message (for a person); the hidden
 * _ref, _url and _error_code keys are removed. Its lead's crm_url falls
 * back to the call's source's crm_url_template. SET may be NULL. */
void fetcher_call_links(struct fetcher *f, struct source_set *set, json_object *call, long long now,
			const char *user);
/* Sets LEAD's crm_url from SRC's crm_url_template ({id}: crm_id, else
 * ringlog's id; {phone}: +E.164; {e164}) when the lead has none. */
void fetcher_lead_crm_url(const struct source *src, json_object *lead);

/* ---- request parameters (params.c) ---------------------------------------
 * Parsers fill a struct fetcher_bad and return -1; the handler answers it
 * with fetcher_reply_bad(): 400 {"error","message","parameter"}. */

struct fetcher_bad {
	const char *code;  /* invalid_parameter, unknown_parameter, invalid_cursor, ... */
	const char *param; /* the parameter at fault (static or borrowed from the request) */
	struct errbuf e;
};

/* Fills B and returns -1. */
int fetcher_bad(struct fetcher_bad *b, const char *code, const char *param, const char *fmt, ...)
	RL_PRINTF(4, 5);
enum MHD_Result fetcher_reply_bad(struct http_request *req, const struct fetcher_bad *b);

/* Fails on a query parameter that is not in ALLOWED (NULL-terminated): a
 * misspelt filter must not silently widen a query. */
int fetcher_params_known(struct http_request *req, const char *const *allowed,
			 struct fetcher_bad *b) RL_MUST_CHECK;
/* The parameter NAME as text of at most MAX bytes, or *OUT = NULL when absent. */
int fetcher_param_text(struct http_request *req, const char *name, size_t max, const char **out,
		       struct fetcher_bad *b) RL_MUST_CHECK;
/* An integer in [MIN, MAX]; DEF when absent. */
int fetcher_param_int(struct http_request *req, const char *name, long long min, long long max,
		      long long def, long long *out, struct fetcher_bad *b) RL_MUST_CHECK;
/* true/false, 1/0, yes/no; *OUT = -1 when absent. */
int fetcher_param_bool(struct http_request *req, const char *name, int *out,
		       struct fetcher_bad *b) RL_MUST_CHECK;
/* One of CHOICES (NULL-terminated); *OUT = NULL when absent. */
int fetcher_param_choice(struct http_request *req, const char *name, const char *const *choices,
			 const char **out, struct fetcher_bad *b) RL_MUST_CHECK;
/* A date (YYYY-MM-DD) or an ISO 8601 time with or without an offset; the
 * text is handed to ringlog_query_bound() in SQL. *OUT = NULL when absent. */
int fetcher_param_time(struct http_request *req, const char *name, const char **out,
		       struct fetcher_bad *b) RL_MUST_CHECK;
/* The IANA zone `tz` as PostgreSQL spells it (any case accepted); "UTC"
 * when absent; 400 unknown_time_zone otherwise. */
int fetcher_param_tz(struct fetcher *f, struct http_request *req, const char **out,
		     struct fetcher_bad *b) RL_MUST_CHECK;
/* The source named by `source`: *SET holds a reference the caller drops
 * with source_set_unref(); *SRC = NULL when absent; 400 unknown_source. */
int fetcher_param_source(struct fetcher *f, struct http_request *req, struct source_set **set,
			 const struct source **src, struct fetcher_bad *b) RL_MUST_CHECK;
/* Normalises a phone number a client sent: with SRC, by the source's plan
 * (national numbers work); without, as an international number (digits,
 * optionally after '+' or '00'). Writes E.164 digits to OUT. */
int fetcher_phone(const char *raw, const struct source *src, const char *param,
		  char out[PHONE_E164_LEN], struct fetcher_bad *b) RL_MUST_CHECK;
/* The "{id}" of a template route as a positive integer; false when it is
 * not one (the handler answers 404). */
bool fetcher_path_id(struct http_request *req, long long *id);

/* ---- time zones (zones.c) ------------------------------------------------ */

/* Loads the names of pg_timezone_names (validating a zone there costs ~40 ms
 * a query). Returns a new set, or NULL with E. */
struct fetcher_zones *fetcher_zones_load(struct db *db, struct errbuf *e) RL_MUST_CHECK;
void fetcher_zones_free(struct fetcher_zones *z);
/* The zone NAME as PostgreSQL spells it (case-insensitive), or NULL. */
const char *fetcher_zones_find(const struct fetcher_zones *z, const char *name);

/* ---- opaque cursors (cursor.c) -------------------------------------------
 * A page position (two integers: a time in µs and a row id) in 43 base64url
 * characters, signed with the signing key so a client cannot forge one. */
void fetcher_cursor_make(const struct fetcher *f, const char *kind, long long a, long long b,
			 struct buf *out);
/* Returns 0 with *A and *B, or -1 when TEXT is not a cursor of KIND. */
int fetcher_cursor_read(const struct fetcher *f, const char *kind, const char *text,
			long long *a, long long *b) RL_MUST_CHECK;

/* ---- handlers ------------------------------------------------------------ */

enum MHD_Result fetcher_handle_calls(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_call(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_leads(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_lead(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_lead_upsert(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_tasks(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_task_done(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_export(struct http_request *req, void *app);

/* Answers 503 (database away) or 500 for a failed statement, and logs it. */
enum MHD_Result fetcher_reply_db_error(struct http_request *req, struct db *db, const char *what,
				       const struct errbuf *e);
/* Parses one JSON value the database built; NULL if it is not JSON. */
json_object *fetcher_json_parse(const char *text);
/* Runs STMT with PARAMS on DB; *OUT is the JSON value of the first column of
 * its first row (a new object, caller puts), or NULL when there is no row.
 * Returns 0, or -1 with E filled (database). */
int fetcher_json_row(struct db *db, const struct db_stmt *stmt, const char *const *params,
		     json_object **out, struct errbuf *e) RL_MUST_CHECK;

/* Numbers for people (phones.c): adds NAME_display (the E.164 digits at
 * E164_KEY formatted internationally, else the text at RAW_KEY, else null)
 * and NAME_type (mobile, fixed_line, ...; null) to OBJ. */
void fetcher_add_phone_display(json_object *obj, const char *e164_key, const char *raw_key,
			       const char *name);
/* The same for a call's caller, callee and its lead's phone. */
void fetcher_add_call_phones(json_object *call);

/* One row of the CSV export (LEN bytes, DELIM between cells) with its
 * caller and callee numbers in STYLE (national: as dialled from REGION, or
 * each in its own country when NULL). Returns a new row (malloc, one byte
 * of room after it; *LEN updated), or NULL when nothing changed. */
char *fetcher_export_phones(const char *row, int *len, char delim, enum phone_style style,
			    const char *region);

/* ---- the audit trail (audit.c) ---------------------------------------- */

/* Records a play or download of RECORDING_ID by REQ's user (its call and
 * source looked up). Returns 0, or -1 (logged). */
int fetcher_audit_play(struct fetcher *f, struct http_request *req, long long recording_id, bool download);
/* Records an export by REQ's user with its FILTERS (borrowed) and SOURCE
 * (NULL: all). Returns the row's id, or -1 (logged). */
long long fetcher_audit_export(struct fetcher *f, struct http_request *req, const char *source,
			       json_object *filters);
/* Adds the row count and OUTCOME (complete, cancelled, failed) to export
 * audit row AUDIT_ID (<= 0: none). */
void fetcher_audit_export_done(struct fetcher *f, long long audit_id, long long rows, const char *outcome);

/* Erasing a person through the API (erase.c): POST /v1/erase, for a token
 * with the "erase" scope (ringlog token add NAME --scope erase). */
enum MHD_Result fetcher_handle_erase(struct http_request *req, void *app);
/* As fetcher_authorized_backend, and the token must have SCOPE (403
 * insufficient_scope otherwise). */
bool fetcher_authorized_scope(struct fetcher *f, struct http_request *req, const char *scope,
			      enum MHD_Result *rc);

/* Export metrics (export.c), registered before serving. */
void fetcher_export_metrics_register(void);

#endif
