#include "events.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringlog/buf.h"
#include "ringlog/db.h"
#include "ringlog/form.h"
#include "ringlog/rltime.h"
#include "ringlog/xalloc.h"

struct events {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct buf queued;   /* COPY text lines, swapped out whole by the writer */
	size_t nqueued, max_queued;
	bool stopping, full_batch;
	pthread_t thread;
	char *conninfo;
	atomic_ullong written, dropped;
};

static const char copy_sql[] =
	"COPY call_events (source_id, pbx_call_id, status, phone, phone_e164, caller_name,"
	" agent, did, direction, lead_id, at) FROM STDIN";

/* One column of a COPY text line: \N for NULL; backslash, tab, newline and
 * carriage return escaped. Text that is not UTF-8 would fail the whole
 * batch: its bytes outside UTF-8 are written as '?' (a NULL could break a
 * NOT NULL column just the same). */
static char *utf8_or_question_marks(const char *s, size_t len)
{
	char *out = xstrndup(s, len);

	for (size_t i = 0; i < len;) {
		size_t n = 1;

		while (n <= 4 && i + n <= len && !form_is_utf8(out + i, n))
			n++;
		if (n > 4 || i + n > len) {
			out[i++] = '?';
			continue;
		}
		i += n;
	}
	return out;
}

static void add_text(struct buf *b, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	size_t from = 0;
	char *fixed = NULL;

	if (!s) {
		buf_adds(b, "\\N\t");
		return;
	}
	if (!form_is_utf8(s, len))
		s = fixed = utf8_or_question_marks(s, len);
	for (size_t i = 0; i < len; i++) {
		const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '\t' ? "\\t"
				: s[i] == '\n' ? "\\n" : s[i] == '\r' ? "\\r" : NULL;

		if (!esc)
			continue;
		buf_add(b, s + from, i - from);
		buf_adds(b, esc);
		from = i + 1;
	}
	buf_add(b, s + from, len - from);
	buf_addch(b, '\t');
	free(fixed);
}

static void add_line(struct buf *b, const struct call_event *e)
{
	struct rltime at = { .set = true, .sec = e->at_us / 1000000,
			     .usec = (int32_t)(e->at_us % 1000000) };
	char at_text[RLTIME_TEXT_LEN];

	buf_addf(b, "%lld\t", (long long)e->source_id);
	add_text(b, e->pbx_call_id);
	add_text(b, e->status);
	add_text(b, e->phone);
	add_text(b, e->phone_e164);
	add_text(b, e->caller_name);
	add_text(b, e->agent);
	add_text(b, e->did);
	add_text(b, e->direction);
	if (e->lead_id)
		buf_addf(b, "%lld\t", (long long)e->lead_id);
	else
		buf_adds(b, "\\N\t");
	rltime_format(&at, at_text);
	buf_adds(b, at_text);
	buf_addch(b, '\n');
}

/* The batch failed: each line alone, so one bad row loses only itself. */
static void write_lines(struct events *ev, struct db *db, const struct buf *rows)
{
	size_t lost = 0, kept = 0;
	struct errbuf e, first = { "" };

	for (const char *p = rows->data, *end = rows->data + rows->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (db_copy_in(db, copy_sql, p, len, &e) < 0) {
			if (!lost++)
				first = e;
		} else {
			kept++;
		}
		p += len;
	}
	atomic_fetch_add(&ev->written, kept);
	atomic_fetch_add(&ev->dropped, lost);
	if (lost)
		log_msg(LOG_WARNING, "%zu screen-pop events not recorded (%zu of the batch were): %s",
			lost, kept, first.msg);
}

static void write_batch(struct events *ev, struct db *db, const struct buf *rows, size_t n)
{
	struct errbuf e;

	if (db_copy_in(db, copy_sql, rows->data, rows->len, &e) < 0) {
		if (db_is_down(db)) {
			atomic_fetch_add(&ev->dropped, n);
			log_msg(LOG_WARNING, "%zu screen-pop events not recorded: %s", n, e.msg);
			return;
		}
		write_lines(ev, db, rows);
		return;
	}
	atomic_fetch_add(&ev->written, n);
}

static void *writer_main(void *arg)
{
	struct events *ev = arg;
	struct db *db = db_new(ev->conninfo, "ringlog-ingestd events");
	struct buf rows = BUF_INIT;
	bool stop = false;

	while (!stop) {
		struct timespec until;
		struct buf swap;
		size_t n;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += EVENTS_FLUSH_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&ev->lock);
		while (!ev->stopping && !ev->full_batch &&
		       pthread_cond_timedwait(&ev->wake, &ev->lock, &until) != ETIMEDOUT)
			;
		stop = ev->stopping;
		ev->full_batch = false;
		/* Take the lines; leave the emptied buffer (its memory kept) to fill. */
		buf_reset(&rows);
		swap = ev->queued;
		ev->queued = rows;
		rows = swap;
		n = ev->nqueued;
		ev->nqueued = 0;
		pthread_mutex_unlock(&ev->lock);
		if (n > 0)
			write_batch(ev, db, &rows, n);
	}
	buf_release(&rows);
	db_free(db);
	return NULL;
}

struct events *events_start(const char *conninfo, size_t max_queued, struct errbuf *e)
{
	struct events *ev = xcalloc(1, sizeof(*ev));

	pthread_mutex_init(&ev->lock, NULL);
	pthread_cond_init(&ev->wake, NULL);
	buf_init(&ev->queued);
	ev->max_queued = max_queued;
	ev->conninfo = xstrdup(conninfo);
	if (pthread_create(&ev->thread, NULL, writer_main, ev) != 0) {
		err_set(e, "cannot start the events writer: %s", strerror(errno));
		free(ev->conninfo);
		free(ev);
		return NULL;
	}
	return ev;
}

void events_record(struct events *ev, const struct call_event *event)
{
	bool full;

	pthread_mutex_lock(&ev->lock);
	full = ev->nqueued >= ev->max_queued;
	if (!full) {
		add_line(&ev->queued, event);
		/* A busy ringing hour: write now rather than let the queue grow. */
		if (++ev->nqueued == EVENTS_BATCH) {
			ev->full_batch = true;
			pthread_cond_signal(&ev->wake);
		}
	}
	pthread_mutex_unlock(&ev->lock);
	if (full)
		atomic_fetch_add(&ev->dropped, 1);
}

void events_stop(struct events *ev)
{
	if (!ev)
		return;
	pthread_mutex_lock(&ev->lock);
	ev->stopping = true;
	pthread_cond_signal(&ev->wake);
	pthread_mutex_unlock(&ev->lock);
	pthread_join(ev->thread, NULL);
	buf_release(&ev->queued);
	pthread_mutex_destroy(&ev->lock);
	pthread_cond_destroy(&ev->wake);
	free(ev->conninfo);
	free(ev);
}

unsigned long long events_written(const struct events *ev)
{
	return ev ? ev->written : 0;
}

unsigned long long events_dropped(const struct events *ev)
{
	return ev ? ev->dropped : 0;
}
