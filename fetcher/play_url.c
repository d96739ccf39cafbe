#include "fetcher.h"

void fetcher_play_url(const struct fetcher *f, long long id, long long now, struct buf *out)
{
	long long expires = now + f->cfg->play_url_ttl_s;
	char sig[SIGN_HEX_LEN + 1];

	sign_make(&f->sign_key, FETCHER_SIGN_RECORDING, id, expires, sig);
	buf_addf(out, "%s/v1/recordings/%lld?expires=%lld&sig=%s",
		 f->cfg->public_url ? f->cfg->public_url : "", id, expires, sig);
}
