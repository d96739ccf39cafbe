/* What the query API links to, decided in one place: a recording's signed
 * play_url only when playing it can work (stored, or remote with a way to
 * fetch it), else the reason in words the CRM can show; and a lead's
 * crm_url, falling back to its source's --crm-url-template. */
#include <stdio.h>
#include <string.h>

#include "fetcher.h"
#include "ringlog/crm_url.h"
#include "ringlog/upstream.h"

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static bool has_text(const char *s)
{
	return s && *s;
}

/* Why a remote recording of SRC with reference REF and pushed URL URL cannot
 * be fetched (the rule of upstream_url()), or NULL when it can. */
static const char *remote_unplayable(const struct source *src, const char *ref, const char *url)
{
	if (!src || (has_text(ref) && has_text(src->fetch_url_template)))
		return NULL;
	if (has_text(url))
		return upstream_url_allowed(src, url) ? NULL : "fetch_not_allowed";
	return "fetch_not_configured";
}

/* A sentence for REASON, for a person using the CRM ({s}: the source). */
static void reason_message(const char *reason, const char *source, struct buf *out)
{
	static const struct { const char *code, *text; } words[] = {
		{ "fetch_not_configured", "ringlog cannot fetch recordings of source {s}: ask your "
					  "administrator to set up recording fetch for source {s}." },
		{ "fetch_not_allowed", "ringlog may not fetch this recording from where source {s} "
				       "keeps it: ask your administrator to set up recording fetch "
				       "(allowed hosts) for source {s}." },
		{ "upstream_not_configured", "ringlog cannot fetch recordings of source {s}: ask your "
					     "administrator to set up recording fetch for source {s}." },
		{ "upstream_not_allowed", "ringlog may not fetch this recording from where source {s} "
					  "keeps it: ask your administrator to set up recording "
					  "fetch (allowed hosts) for source {s}." },
		{ "upstream_auth_failed", "The PBX refused ringlog's credentials: ask your "
					  "administrator to check recording fetch for source {s}." },
		{ "upstream_rejected_ref", "The PBX (source {s}) no longer has this recording: it "
					   "may have been deleted there." },
		{ "upstream_too_large", "The recording is larger than ringlog accepts (source {s}): "
					"ask your administrator." },
	};
	const char *text = "The PBX (source {s}) could not send this recording; ringlog will not "
			   "try again.";

	for (size_t i = 0; i < RL_ARRAY_LEN(words); i++)
		if (strcmp(reason, words[i].code) == 0)
			text = words[i].text;
	for (const char *p = text; *p;)
		if (strncmp(p, "{s}", 3) == 0)
			buf_adds(out, source), p += 3;
		else
			buf_addch(out, *p++);
}

static void set_unplayable(json_object *r, const char *reason, const char *source)
{
	struct buf msg = BUF_INIT;

	reason_message(reason, source, &msg);
	json_object_object_add(r, "play_url", NULL);
	json_object_object_add(r, "unavailable_reason", json_object_new_string(reason));
	json_object_object_add(r, "unavailable_message", json_object_new_string(buf_str(&msg)));
	buf_release(&msg);
}

static void recording_links(struct fetcher *f, json_object *r, const struct source *src,
			    const char *source, long long now, struct buf *url)
{
	const char *state = str(r, "state"), *why = NULL;
	json_object *id;

	if (!state || !json_object_object_get_ex(r, "id", &id))
		return;
	if (strcmp(state, "failed") == 0)
		why = has_text(str(r, "_error_code")) ? str(r, "_error_code") : "upstream_error";
	else if (strcmp(state, "remote") == 0)
		why = remote_unplayable(src, str(r, "_ref"), str(r, "_url"));
	if (why) {
		set_unplayable(r, why, source);
	} else {
		buf_reset(url);
		fetcher_play_url(f, json_object_get_int64(id), now, url);
		json_object_object_add(r, "play_url", json_object_new_string(buf_str(url)));
		json_object_object_add(r, "unavailable_reason", NULL);
		json_object_object_add(r, "unavailable_message", NULL);
	}
	/* Where the PBX keeps it may carry credentials: never shown. */
	json_object_object_del(r, "_ref");
	json_object_object_del(r, "_url");
	json_object_object_del(r, "_error_code");
}

void fetcher_lead_crm_url(const struct source *src, json_object *lead)
{
	json_object *v;
	char id[24];
	const char *phone;
	struct buf url = BUF_INIT, plus = BUF_INIT;

	if (!lead || !json_object_is_type(lead, json_type_object) || has_text(str(lead, "crm_url")) ||
	    !src || !has_text(src->crm_url_template) || !(phone = str(lead, "phone")))
		return;
	snprintf(id, sizeof(id), "%lld",
		 json_object_object_get_ex(lead, "id", &v) ? (long long)json_object_get_int64(v) : 0);
	buf_addf(&plus, "+%s", phone);
	crm_url_fill(src->crm_url_template, has_text(str(lead, "crm_id")) ? str(lead, "crm_id") : id,
		     buf_str(&plus), phone, &url);
	json_object_object_add(lead, "crm_url", json_object_new_string(buf_str(&url)));
	buf_release(&url);
	buf_release(&plus);
}

void fetcher_call_links(struct fetcher *f, struct source_set *set, json_object *call, long long now)
{
	const char *source = str(call, "source");
	const struct source *src = set && source ? source_set_find(set, source) : NULL;
	json_object *recs, *lead;
	struct buf url = BUF_INIT;

	if (json_object_object_get_ex(call, "lead", &lead))
		fetcher_lead_crm_url(src, lead);
	if (json_object_object_get_ex(call, "recordings", &recs))
		for (size_t i = 0; i < json_object_array_length(recs); i++)
			recording_links(f, json_object_array_get_idx(recs, i), src,
					source ? source : "?", now, &url);
	buf_release(&url);
}
