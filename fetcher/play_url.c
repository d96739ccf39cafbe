/* Play links: a recording's id, an expiry and the user who asked for the
 * link, signed together, so the audit trail can name who played it. */
#include <stdlib.h>
#include <string.h>

#include "fetcher.h"
#include "ringlog/auth.h"
#include "ringlog/xalloc.h"

/* "recording" for a link without a user, "recording/<user>" with one. */
static char *resource(const char *user)
{
	char *r = xmalloc(sizeof(FETCHER_SIGN_RECORDING "/") + (user ? strlen(user) : 0));

	strcpy(r, FETCHER_SIGN_RECORDING);
	if (user) {
		strcat(r, "/");
		strcat(r, user);
	}
	return r;
}

void fetcher_play_url(const struct fetcher *f, long long id, const char *user, long long now,
		      struct buf *out)
{
	long long expires = now + f->cfg->play_url_ttl_s;
	char sig[SIGN_HEX_LEN + 1], *res, *hex = NULL;

	if (user && (!*user || strlen(user) > FETCHER_PLAY_USER_MAX))
		user = NULL;
	res = resource(user);
	sign_make(&f->sign_key, res, id, expires, sig);
	buf_addf(out, "%s/v1/recordings/%lld?expires=%lld", f->cfg->public_url ? f->cfg->public_url : "",
		 id, expires);
	if (user) {
		hex = xmalloc(2 * strlen(user) + 1);
		auth_hex((const unsigned char *)user, strlen(user), hex);
		buf_addf(out, "&u=%s", hex);
	}
	buf_addf(out, "&sig=%s", sig);
	free(res);
	free(hex);
}

enum sign_status fetcher_play_signature(const struct fetcher *f, long long id, const char *expires,
					const char *u, const char *sig, long long now, char **user)
{
	size_t n = u ? strlen(u) : 0;
	enum sign_status st;
	char *res;

	*user = NULL;
	if (u) {
		if (n == 0 || n % 2 || n > 2 * FETCHER_PLAY_USER_MAX)
			return SIGN_INVALID;
		*user = xcalloc(1, n / 2 + 1);
		if (auth_unhex(u, (unsigned char *)*user, n / 2) < 0 || strlen(*user) != n / 2) {
			free(*user);
			*user = NULL;
			return SIGN_INVALID;
		}
	}
	res = resource(*user);
	st = sign_check(&f->sign_key, res, id, expires, sig, now);
	free(res);
	if (st != SIGN_OK) {
		free(*user);
		*user = NULL;
	}
	return st;
}
