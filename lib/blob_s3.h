/* What the files of the S3 backend share (blob_s3.c: the store, puts and
 * reads; blob_s3_req.c: one signed request; blob_s3_xml.c: what is read
 * from answers and the credentials file). */
#ifndef RINGLOG_BLOB_S3_H
#define RINGLOG_BLOB_S3_H

#include <curl/curl.h>
#include <time.h>

#include "blob_internal.h"
#include "ringlog/buf.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_store {
	char *scheme_host; /* "http://127.0.0.1:9000" (path style) or with the bucket in front */
	char *bucket_path; /* "/bucket" (path style) or "" (virtual-hosted) */
	char *prefix;      /* what keys are named under: "" or "some/prefix/" */
	char *sigv4;       /* "aws:amz:REGION:s3" */
	char *userpwd;     /* "ID:SECRET", never shown */
	char *staging;     /* directory of staged puts */
	uint64_t part_size;
};

/* One request and its answer. */
struct s3_req {
	const char *method;
	struct buf url;
	const char *payload_sha; /* hex; NULL: the empty body's */
	const char *range;       /* "a-b" or NULL */
	/* the body: memory, or a region of a file */
	const char *body;
	size_t body_len;
	int body_fd;
	uint64_t fd_off, fd_len, sent;
	/* the answer */
	long status;
	struct buf resp;         /* the body, up to RESP_MAX (when RESP_TO is NULL) */
	size_t resp_max;
	char *resp_to;           /* or straight into this buffer ... */
	size_t resp_cap, resp_len; /* ... of this size */
	char etag[128];
	uint64_t total;          /* from Content-Range, else Content-Length */
	bool have_total;
	time_t last_modified;
};

/* R empty, for METHOD. */
void blob_s3_req_init(struct s3_req *r, const char *method);
void blob_s3_req_release(struct s3_req *r);
/* The URL of object KEY (of the bucket when KEY is NULL) into R's url. */
void blob_s3_url(const struct s3_store *s, const char *key, struct s3_req *r);
/* Sends R, signed, with handle H (a new one when NULL). Returns 0 with
 * R->status set, or -1 with E filled when there was no HTTP answer. */
int blob_s3_perform(struct s3_store *s, CURL *h, struct s3_req *r, struct errbuf *e);
/* Fills E with R's status and S3's error code; returns -1. */
int blob_s3_fail(const struct s3_req *r, const char *what, struct errbuf *e);
/* "2024-05-01T10:00:00.000Z" as seconds since the epoch (0 when not that). */
int64_t blob_s3_iso_time(const char *v, size_t n);

#endif
