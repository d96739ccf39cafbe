/* HTTPS credentials for libmicrohttpd's GnuTLS: a certificate chain and its
 * private key read from PEM files and handed to each handshake by a callback,
 * so that a reload (SIGHUP, after certbot renewed the files) swaps them for
 * new connections without a restart and without dropping open ones. The
 * callback has no user pointer: one set of credentials per process. */
#ifndef RINGLOG_TLS_H
#define RINGLOG_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "ringlog/buf.h"
#include "ringlog/compiler.h"
#include "ringlog/log.h"

struct tls_creds;

/* Reads CERT (the chain, leaf first or in any order) and KEY, checks that
 * the key is the certificate's, and makes them the process's credentials.
 * Returns them (caller frees with tls_creds_free after the server stopped),
 * or NULL with E filled, also when credentials already exist. */
struct tls_creds *tls_creds_new(const char *cert, const char *key, struct errbuf *e) RL_MUST_CHECK;
/* Reads CERT and KEY again (the same names or new ones) for the handshakes
 * that start from now on. Returns 0, or -1 with E filled: then the
 * credentials in use stay. Thread-safe. */
int tls_creds_reload(struct tls_creds *c, const char *cert, const char *key,
		     struct errbuf *e) RL_MUST_CHECK;
/* Appends "subject, issuer, not after" of the leaf in use, for logs. */
void tls_creds_describe(struct tls_creds *c, struct buf *out);
void tls_creds_free(struct tls_creds *c);

/* For MHD_OPTION_HTTPS_CERT_CALLBACK: the current chain and key. */
int tls_creds_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
		       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		       gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey);

#endif
