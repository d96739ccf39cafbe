#include "ringlog/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ringlog/xalloc.h"

#define TLS_MAX_CHAIN 16
#define TLS_MAX_PEM (1 << 20)
/* A handshake uses the chain and key only while it builds the server's first
 * flight, right after the callback; retired ones are kept this long anyway,
 * then freed at the next reload (or when the server stops). */
#define TLS_RETIRED_KEEP_S 600

/* One loaded chain and key. */
struct tls_gen {
	gnutls_pcert_st chain[TLS_MAX_CHAIN];
	unsigned len;
	gnutls_privkey_t key;
	time_t retired; /* monotonic seconds; 0 while in use */
	struct tls_gen *older;
};

struct tls_creds {
	struct tls_gen *current; /* newest; ->older were retired by reloads */
};

/* What the callback hands out, and every generation list: under the lock. */
static pthread_mutex_t active_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tls_creds *active;

static time_t monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void gen_free(struct tls_gen *g)
{
	while (g) {
		struct tls_gen *older = g->older;

		for (unsigned i = 0; i < g->len; i++)
			gnutls_pcert_deinit(&g->chain[i]);
		if (g->key)
			gnutls_privkey_deinit(g->key);
		free(g);
		g = older;
	}
}

/* Reads a PEM file of at most TLS_MAX_PEM bytes into OUT. */
static int read_pem(const char *path, struct buf *out, struct errbuf *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char chunk[4096];
	ssize_t n;

	buf_reset(out);
	if (fd < 0)
		return err_set(e, "cannot read %s: %s", path, strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && out->len <= TLS_MAX_PEM)
		buf_add(out, chunk, (size_t)n);
	close(fd);
	explicit_bzero(chunk, sizeof(chunk));
	if (n < 0)
		return err_set(e, "cannot read %s: %s", path, strerror(errno));
	if (out->len > TLS_MAX_PEM)
		return err_set(e, "%s is larger than %d bytes: not a PEM file", path, TLS_MAX_PEM);
	return 0;
}

static gnutls_datum_t datum(const struct buf *b)
{
	return (gnutls_datum_t){ (unsigned char *)b->data, (unsigned)b->len };
}

/* The key must be the leaf certificate's: compare the public keys. */
static int key_matches(const struct tls_gen *g, struct errbuf *e)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t mine = { NULL, 0 }, leaf = { NULL, 0 };
	int rc = -1;

	if (gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_privkey(pub, g->key, 0, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &mine) < 0 ||
	    gnutls_pubkey_export2(g->chain[0].pubkey, GNUTLS_X509_FMT_DER, &leaf) < 0) {
		err_set(e, "cannot compare the key with the certificate");
		goto out;
	}
	if (mine.size != leaf.size || memcmp(mine.data, leaf.data, mine.size) != 0) {
		err_set(e, "the private key does not belong to the certificate");
		goto out;
	}
	rc = 0;
out:
	gnutls_free(mine.data);
	gnutls_free(leaf.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	return rc;
}

static int load_chain(struct tls_gen *g, const char *path, struct buf *pem, struct errbuf *e)
{
	gnutls_datum_t d;
	int rc;

	if (read_pem(path, pem, e) < 0)
		return -1;
	d = datum(pem);
	g->len = TLS_MAX_CHAIN;
	rc = gnutls_pcert_list_import_x509_raw(g->chain, &g->len, &d, GNUTLS_X509_FMT_PEM,
					       GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED |
						       GNUTLS_X509_CRT_LIST_SORT);
	if (rc < 0 || g->len == 0) {
		g->len = 0;
		return err_set(e, "%s: not a PEM certificate chain of at most %d certificates (%s)",
			       path, TLS_MAX_CHAIN, gnutls_strerror(rc));
	}
	return 0;
}

static int load_key(struct tls_gen *g, const char *path, struct buf *pem, struct errbuf *e)
{
	gnutls_datum_t d;
	int rc;

	if (read_pem(path, pem, e) < 0)
		return -1;
	d = datum(pem);
	if (gnutls_privkey_init(&g->key) < 0) {
		g->key = NULL;
		return err_set(e, "out of memory for the TLS key");
	}
	rc = gnutls_privkey_import_x509_raw(g->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0)
		return err_set(e, "%s: not an unencrypted PEM private key (%s)", path,
			       gnutls_strerror(rc));
	return 0;
}

/* Reads CERT and KEY into a new generation, or NULL with E filled. */
static struct tls_gen *gen_load(const char *cert, const char *key, struct errbuf *e)
{
	struct tls_gen *g = xcalloc(1, sizeof(*g));
	struct buf pem = BUF_INIT;
	int rc = -1;

	if (!cert || !*cert || !key || !*key) {
		err_set(e, "TLS needs both a certificate and a key file");
		goto out;
	}
	if (load_chain(g, cert, &pem, e) < 0 || load_key(g, key, &pem, e) < 0 ||
	    key_matches(g, e) < 0)
		goto out;
	rc = 0;
out:
	if (pem.data)
		explicit_bzero(pem.data, pem.cap);
	buf_release(&pem);
	if (rc < 0) {
		gen_free(g);
		g = NULL;
	}
	return g;
}

struct tls_creds *tls_creds_new(const char *cert, const char *key, struct errbuf *e)
{
	struct tls_gen *g = gen_load(cert, key, e);
	struct tls_creds *c = NULL;

	if (!g)
		return NULL;
	pthread_mutex_lock(&active_lock);
	if (active) {
		err_set(e, "TLS credentials are already loaded in this process");
		gen_free(g);
	} else {
		c = xcalloc(1, sizeof(*c));
		c->current = g;
		active = c;
	}
	pthread_mutex_unlock(&active_lock);
	return c;
}

/* Frees the generations retired long enough ago (under the lock). */
static void prune(struct tls_gen *newest, time_t now)
{
	for (struct tls_gen *g = newest; g->older; g = g->older) {
		if (now - g->older->retired > TLS_RETIRED_KEEP_S) {
			gen_free(g->older);
			g->older = NULL;
			return;
		}
	}
}

int tls_creds_reload(struct tls_creds *c, const char *cert, const char *key, struct errbuf *e)
{
	struct tls_gen *g = gen_load(cert, key, e);
	time_t now = monotonic_s();

	if (!g)
		return -1;
	pthread_mutex_lock(&active_lock);
	c->current->retired = now;
	g->older = c->current;
	c->current = g;
	prune(g, now);
	pthread_mutex_unlock(&active_lock);
	return 0;
}

static void add_dn(struct buf *out, const char *label, int rc, gnutls_datum_t *dn)
{
	buf_addf(out, "%s%s", out->len ? ", " : "", label);
	if (rc >= 0)
		buf_add(out, dn->data, dn->size);
	else
		buf_adds(out, "?");
	gnutls_free(dn->data);
	dn->data = NULL;
}

void tls_creds_describe(struct tls_creds *c, struct buf *out)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t dn = { NULL, 0 };
	time_t until;
	struct tm tm;
	char when[40];

	pthread_mutex_lock(&active_lock);
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &c->current->chain[0].cert, GNUTLS_X509_FMT_DER) < 0) {
		buf_adds(out, "an unreadable certificate");
		goto out;
	}
	add_dn(out, "subject ", gnutls_x509_crt_get_dn3(crt, &dn, 0), &dn);
	add_dn(out, "issuer ", gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0), &dn);
	until = gnutls_x509_crt_get_expiration_time(crt);
	gmtime_r(&until, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	buf_addf(out, ", not after %s%s", when, until < time(NULL) ? " (EXPIRED)" : "");
out:
	pthread_mutex_unlock(&active_lock);
	if (crt)
		gnutls_x509_crt_deinit(crt);
}

void tls_creds_free(struct tls_creds *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&active_lock);
	if (active == c)
		active = NULL;
	pthread_mutex_unlock(&active_lock);
	gen_free(c->current);
	free(c);
}

int tls_creds_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
		       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		       gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
	struct tls_gen *g;

	(void)session;
	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	pthread_mutex_lock(&active_lock);
	g = active ? active->current : NULL;
	pthread_mutex_unlock(&active_lock);
	if (!g)
		return -1;
	*pcert = g->chain;
	*pcert_length = g->len;
	*pkey = g->key;
	return 0;
}
