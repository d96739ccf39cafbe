/* Recordings in ringlog-fetcherd: GET/HEAD /v1/recordings/{id}.
 *
 * A stored recording is served from the blob store (rec_playback.c). A
 * remote one is fetched from its PBX by a "flight" (rec_engine.c): one per
 * recording in this process, however many players ask, and one across
 * processes through a lease on the recordings row. The flight runs on a
 * pool of fetch workers; the players' connections are suspended while
 * there is nothing to send and resumed when bytes arrive, so a cold play
 * streams the download as it comes without tying up a server thread.
 * The prefetch worker (rec_prefetch.c) claims due recordings and hands them
 * to the same pool. */
#ifndef RINGLOG_FETCHER_RECORDINGS_H
#define RINGLOG_FETCHER_RECORDINGS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ringlog/blob.h"
#include "ringlog/http.h"
#include "ringlog/upstream.h"

struct fetcher;
struct rec_engine;
struct flight;

/* ---- the fetch engine (rec_engine.c) ---------------------------------------- */

/* Starts the fetch workers (and the prefetch worker when configured).
 * Returns the engine, or NULL with E filled. */
struct rec_engine *rec_engine_start(struct fetcher *f, struct errbuf *e) RL_MUST_CHECK;
/* Cancels every fetch and resumes every connection waiting on one (the
 * http_options.before_stop hook). */
void rec_engine_cancel(void *engine);
/* Cancels, joins the workers and frees the engine. NULL is a no-op. */
void rec_engine_stop(struct rec_engine *g);

enum flight_state {
	FLIGHT_WAITING,   /* queued, claiming, or waiting for another process */
	FLIGHT_STREAMING, /* the PBX answered with audio: bytes are arriving */
	FLIGHT_STORED,    /* in the blob store and on the row: read the row again */
	FLIGHT_FAILED,
};

enum flight_failure {
	FLIGHT_UPSTREAM,     /* ERROR says what the PBX did */
	FLIGHT_UNAVAILABLE,  /* the database is away: 503 */
	FLIGHT_STORE_FAILED, /* the blob store refused: 500 */
	FLIGHT_STOPPING,     /* the daemon is stopping: 503 */
	FLIGHT_GONE,         /* the recording was deleted meanwhile: 404 */
};

/* What a flight is doing, copied out under the engine's lock. */
struct flight_view {
	enum flight_state state;
	int64_t length;  /* Content-Length of the download, -1 when unknown */
	char mime[64];
	enum flight_failure failure;
	enum upstream_error error;
	char message[400];
	long long retry_after; /* seconds until the next attempt, 0 when none */
};

/* The flight for recording ID: joined, or made and queued ahead of any
 * prefetch. Returns a reference (flight_unref). */
struct flight *flight_join(struct rec_engine *g, long long id);
/* Takes another reference; returns FL. */
struct flight *flight_ref(struct flight *fl);
void flight_unref(struct flight *fl);
/* Fills V. When the flight is still WAITING (or streaming without a known
 * length while NEED_LENGTH), suspends CONN until its state changes and
 * returns true instead: the handler returns and is called again. */
bool flight_wait(struct flight *fl, struct MHD_Connection *conn, bool need_length,
		 struct flight_view *v);

#define FLIGHT_READ_END (-1)   /* all of it was read */
#define FLIGHT_READ_ERROR (-2) /* the download failed or was cut */
/* Copies up to LEN downloaded bytes from OFFSET into BUF. Returns the count,
 * FLIGHT_READ_END, FLIGHT_READ_ERROR, or 0 after suspending CONN until more
 * bytes arrive (the content reader returns 0 and is called again). */
ssize_t flight_read(struct flight *fl, struct MHD_Connection *conn, uint64_t offset, char *buf,
		    size_t len);

/* ---- the prefetch worker (rec_prefetch.c) --------------------------------------- */

/* What the engine offers the prefetch worker. */
struct rec_prefetch;
struct rec_prefetch *rec_prefetch_start(struct rec_engine *g, struct fetcher *f,
					struct errbuf *e) RL_MUST_CHECK;
/* Wakes the worker (a prefetch ended, or the daemon stops). */
void rec_prefetch_wake(struct rec_prefetch *p);
void rec_prefetch_stop(struct rec_prefetch *p);

/* For rec_prefetch.c: the ids of the flights in this process (a new array,
 * caller frees; *N its length), how many background flights are running,
 * and queueing a row the worker has claimed already. */
long long *rec_engine_flight_ids(struct rec_engine *g, size_t *n);
int rec_engine_background(struct rec_engine *g);
void rec_engine_queue_claimed(struct rec_engine *g, long long id, const char *ref, const char *url,
			      const char *source_name);
/* The process's lease owner name, lease length, and stop flag. */
const char *rec_engine_owner(const struct rec_engine *g);
int rec_engine_lease_s(const struct rec_engine *g);
bool rec_engine_stopping(const struct rec_engine *g);

/* ---- playback (rec_playback.c) ---------------------------------------------------- */

/* A stored recording as its row describes it. */
struct stored_recording {
	long long id;
	char key[BLOB_KEY_LEN + 1];
	char mime[64];
	int64_t stored_at; /* seconds since the epoch: Last-Modified */
};

/* Answers GET/HEAD for a stored recording from the blob store: validators,
 * conditionals (304, 412), Range (206, 416), the body by sendfile. */
enum MHD_Result playback_stored(struct http_request *req, struct blob_store *blobs,
				const struct stored_recording *s, bool download);
/* Answers a recording still downloading from the flight FL (state V). */
enum MHD_Result playback_streaming(struct http_request *req, struct flight *fl,
				   const struct flight_view *v, long long id, bool download);
/* True when the request asks for a range (so a download of unknown length
 * must finish before it is answered). */
bool playback_wants_range(struct http_request *req);

#endif
