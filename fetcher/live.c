/* Calls in progress, from the screen-pop events ringlog-ingestd records
 * (call_events): GET /v1/calls/live answers the list; GET
 * /v1/calls/live/stream keeps a Server-Sent Events stream open and sends the
 * list again whenever it changes. A call leaves on hangup, or when nothing
 * was heard of it for a while (ringing and talking have their own timeouts).
 *
 * The stream never holds a worker thread: a subscriber with nothing to send
 * is suspended (MHD_suspend_connection, from its content reader), and the
 * hub thread, which polls the list once a second while anyone listens,
 * queues the new list and resumes it. A subscriber holds at most the event
 * it is being sent and the latest list after it (a newer list replaces an
 * older one not yet started), and one that takes nothing for
 * live_stall_timeout seconds is cut. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetcher.h"
#include "ringlog/db.h"
#include "ringlog/xalloc.h"

#define LIVE_KEEPALIVE_S 15

/* The latest event of each call heard of recently, unless it hung up.
 * Each pass is over the window's events, and none per call: one GROUP BY
 * finds the calls still open (the first and last event of each, and the
 * last hangup), and hash joins on (source, id) take the open calls' latest
 * event and ringing stations. A call without an id (NULL) is kept apart
 * from one whose id is ''. Two subqueries per call over the window were
 * quadratic: 200 calls in progress among 200,000 events (the 4-hour
 * window) took 6.8 s a poll and 2,000 took 41 s; the 200 now take 0.09 s
 * (make bench, live). */
static const struct db_stmt live_stmt = {
	"live_calls",
	"WITH recent AS NOT MATERIALIZED ("
	"  SELECT *, pbx_call_id IS NULL AS no_id, coalesce(pbx_call_id, '') AS call_key"
	"    FROM call_events WHERE at > now() - make_interval(secs => $2::int)),"
	" open AS ("
	"  SELECT source_id, no_id, call_key, min(at) AS started, max(at) AS last_at"
	"    FROM recent GROUP BY source_id, no_id, call_key"
	"  HAVING coalesce(max(at) FILTER (WHERE status IN ('hangup', 'hungup', 'ended')),"
	"                  '-infinity') < max(at)),"
	" theirs AS ("
	"  SELECT * FROM recent"
	"   WHERE (source_id, no_id, call_key) IN (SELECT source_id, no_id, call_key FROM open)),"
	" latest AS ("
	"  SELECT DISTINCT ON (source_id, no_id, call_key) t.*, o.started"
	"    FROM theirs t JOIN open o USING (source_id, no_id, call_key)"
	"   WHERE t.at = o.last_at ORDER BY source_id, no_id, call_key, t.status),"
	" rang AS ("
	"  SELECT source_id, no_id, call_key, array_agg(DISTINCT agent ORDER BY agent) AS ringing"
	"    FROM theirs WHERE status = 'ringing' AND agent IS NOT NULL"
	"   GROUP BY source_id, no_id, call_key),"
	" calls AS ("
	"  SELECT l.*, g.ringing FROM latest l LEFT JOIN rang g USING (source_id, no_id, call_key)"
	"   WHERE l.at > now() - make_interval(secs => CASE WHEN l.status = 'ringing'"
	"                                               THEN $1::int ELSE $2::int END))"
	" SELECT json_build_object('calls', coalesce(json_agg(json_build_object("
	"   'source', s.name, 'call_id', c.pbx_call_id, 'status', c.status,"
	"   'direction', c.direction, 'phone', c.phone, 'phone_e164', c.phone_e164,"
	"   'caller_name', c.caller_name, 'did', c.did, 'agent', c.agent,"
	"   'ringing', coalesce(c.ringing, '{}'), 'lead_id', c.lead_id, 'lead_name', ld.name,"
	"   'started_at', ringlog_utc_text(c.started), 'updated_at', ringlog_utc_text(c.at))"
	"   ORDER BY c.started DESC), '[]'))"
	"  FROM calls c JOIN sources s ON s.id = c.source_id"
	"  LEFT JOIN leads ld ON ld.id = c.lead_id",
	2
};

/* The list as JSON text; a new string (caller frees), or NULL with E. */
static char *live_json(struct fetcher *f, struct db *db, struct errbuf *e)
{
	char ringing[24], talking[24];
	const char *params[] = { ringing, talking };
	PGresult *res;
	json_object *obj;
	char *json;

	snprintf(ringing, sizeof(ringing), "%lld", f->cfg->live_ringing_timeout_s);
	snprintf(talking, sizeof(talking), "%lld", f->cfg->live_talking_timeout_s);
	res = db_exec(db, &live_stmt, params, e);
	if (!res)
		return NULL;
	/* As every other answer writes JSON: no spaces around ':' and ','. */
	obj = json_tokener_parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!obj) {
		err_set(e, "the database's live list is not JSON");
		return NULL;
	}
	json = xstrdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
	return json;
}

enum MHD_Result fetcher_handle_live(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	enum MHD_Result rc;
	struct errbuf e;
	char *json;

	if (!fetcher_authorized(f, req, &rc))
		return rc;
	json = live_json(f, fetcher_db(f), &e);
	if (!json && db_is_down(fetcher_db(f))) {
		http_add_header(req, "Retry-After", "5");
		return http_reply_error(req, 503, "unavailable", "the database is unreachable");
	}
	if (!json) {
		log_msg(LOG_ERR, "live calls failed: request id=%s: %s", req->id, e.msg);
		return http_reply_error(req, 500, "internal", "the live calls cannot be listed");
	}
	rc = http_reply(req, 200, "application/json", json, strlen(json));
	free(json);
	return rc;
}

/* ---- the stream ----------------------------------------------------------- */

/* One event's text, shared by every subscriber it is queued for (the lock
 * guards REFS): however many listen, a list is held once. */
struct message {
	int refs;
	size_t len;
	char data[];
};

static struct message *message_new(const char *text)
{
	size_t len = strlen(text);
	struct message *m = xmalloc(sizeof(*m) + len + 1);

	m->refs = 1;
	m->len = len;
	memcpy(m->data, text, len + 1);
	return m;
}

static struct message *message_ref(struct message *m)
{
	m->refs++;
	return m;
}

static void message_unref(struct message *m)
{
	if (m && --m->refs == 0)
		free(m);
}

struct subscriber {
	struct live_hub *hub;
	struct MHD_Connection *conn;
	struct message *cur; /* the event being sent, from SENT on; or NULL */
	size_t sent;
	struct message *latest; /* the latest list, once CUR is out; or NULL */
	bool suspended;
	bool fresh;         /* has not had the list yet */
	time_t last_write;
	struct subscriber *next;
};

struct live_hub {
	struct fetcher *f;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct subscriber *subs;
	char *last;         /* the list last sent */
	bool stopping;
	bool joined;
};

/* Queues M for S and wakes its connection. While an event is still going
 * out, a list waits as S->latest (replacing an older one: only the latest
 * matters) and a keep-alive is not needed. Called with the lock held. */
static void queue_message(struct subscriber *s, struct message *m, bool keepalive, time_t now)
{
	if (!s->cur) {
		s->cur = message_ref(m);
		s->sent = 0;
	} else if (!keepalive) {
		message_unref(s->latest);
		s->latest = message_ref(m);
	}
	s->last_write = now;
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	}
}

static void broadcast(struct live_hub *hub, const char *json)
{
	bool changed = !hub->last || strcmp(hub->last, json) != 0;
	time_t now = time(NULL);
	struct buf text = BUF_INIT;
	struct message *event, *keepalive = message_new(": keepalive\n\n");

	buf_addf(&text, "event: live\ndata: %s\n\n", json);
	event = message_new(text.data);
	buf_release(&text);
	for (struct subscriber *s = hub->subs; s; s = s->next) {
		if (changed || s->fresh)
			queue_message(s, event, false, now);
		else if (now - s->last_write >= LIVE_KEEPALIVE_S)
			queue_message(s, keepalive, true, now);
		s->fresh = false;
	}
	if (changed) {
		free(hub->last);
		hub->last = xstrdup(json);
	}
	message_unref(event);
	message_unref(keepalive);
}

static void *hub_main(void *arg)
{
	struct live_hub *hub = arg;
	struct db *db = db_new(hub->f->cfg->database_url, "ringlog-fetcherd live");
	struct errbuf e;

	pthread_mutex_lock(&hub->lock);
	while (!hub->stopping) {
		struct timespec until;
		char *json;

		if (hub->subs) {
			pthread_mutex_unlock(&hub->lock);
			json = live_json(hub->f, db, &e);
			pthread_mutex_lock(&hub->lock);
			if (json && !hub->stopping)
				broadcast(hub, json);
			free(json);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&hub->wake, &hub->lock, &until);
	}
	pthread_mutex_unlock(&hub->lock);
	db_free(db);
	return NULL;
}

struct live_hub *fetcher_live_start(struct fetcher *f, struct errbuf *e)
{
	struct live_hub *hub = xcalloc(1, sizeof(*hub));

	hub->f = f;
	pthread_mutex_init(&hub->lock, NULL);
	pthread_cond_init(&hub->wake, NULL);
	if (pthread_create(&hub->thread, NULL, hub_main, hub) != 0) {
		err_set(e, "cannot start the live-calls thread");
		free(hub);
		return NULL;
	}
	return hub;
}

/* Ends every stream (their readers see the hub stopping) and the thread.
 * Call before the HTTP server stops: no connection may stay suspended. */
void fetcher_live_stop(struct live_hub *hub)
{
	if (!hub || hub->joined)
		return;
	pthread_mutex_lock(&hub->lock);
	hub->stopping = true;
	for (struct subscriber *s = hub->subs; s; s = s->next)
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
	pthread_cond_signal(&hub->wake);
	pthread_mutex_unlock(&hub->lock);
	pthread_join(hub->thread, NULL);
	hub->joined = true;
}

void fetcher_live_free(struct live_hub *hub)
{
	if (!hub)
		return;
	free(hub->last);
	pthread_cond_destroy(&hub->wake);
	pthread_mutex_destroy(&hub->lock);
	free(hub);
}

static ssize_t read_stream(void *cls, uint64_t pos, char *out, size_t max)
{
	struct subscriber *s = cls;
	struct live_hub *hub = s->hub;
	ssize_t n = 0;

	(void)pos;
	pthread_mutex_lock(&hub->lock);
	if (s->cur && s->sent < s->cur->len) {
		n = (ssize_t)(s->cur->len - s->sent < max ? s->cur->len - s->sent : max);
		memcpy(out, s->cur->data + s->sent, (size_t)n);
		s->sent += (size_t)n;
		if (s->sent == s->cur->len) {
			message_unref(s->cur);
			s->cur = s->latest;
			s->latest = NULL;
			s->sent = 0;
		}
	} else if (hub->stopping) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		/* Nothing to say: park the connection until the hub has news. */
		s->suspended = true;
		MHD_suspend_connection(s->conn);
	}
	pthread_mutex_unlock(&hub->lock);
	return n;
}

static void free_stream(void *cls)
{
	struct subscriber *s = cls, **p;
	struct live_hub *hub = s->hub;

	pthread_mutex_lock(&hub->lock);
	for (p = &hub->subs; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	message_unref(s->cur); /* REFS are the lock's */
	message_unref(s->latest);
	pthread_mutex_unlock(&hub->lock);
	free(s);
}

enum MHD_Result fetcher_handle_live_stream(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	struct live_hub *hub = f->live;
	struct subscriber *s;
	enum MHD_Result rc;

	if (!fetcher_authorized_or_query(f, req, &rc))
		return rc;
	s = xcalloc(1, sizeof(*s));
	s->hub = hub;
	s->conn = req->conn;
	s->fresh = true;
	s->cur = message_new("retry: 3000\n\n");
	pthread_mutex_lock(&hub->lock);
	if (hub->stopping) {
		pthread_mutex_unlock(&hub->lock);
		free_stream(s);
		return http_reply_error(req, 503, "unavailable", "the daemon is stopping");
	}
	s->next = hub->subs;
	hub->subs = s;
	pthread_cond_signal(&hub->wake); /* the first list at once */
	pthread_mutex_unlock(&hub->lock);
	/* A healthy subscriber takes a keep-alive at least every
	 * LIVE_KEEPALIVE_S; one that takes nothing this long has stalled. */
	MHD_set_connection_option(req->conn, MHD_CONNECTION_OPTION_TIMEOUT,
				  (unsigned)f->cfg->live_stall_timeout_s);
	http_add_header(req, "Cache-Control", "no-cache");
	http_add_header(req, "X-Accel-Buffering", "no");
	req->log_outcome = "stream";
	return http_reply_stream(req, 200, "text/event-stream", 4096, read_stream, s, free_stream);
}
