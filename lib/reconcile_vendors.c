/* The built-in vendors' call-log APIs as pull descriptions
 * (docs/reconcile.md): Voicenter's hub/cdr and Ringostat's calls/list. */
#include "reconcile_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

json_object *reconcile_get_ci(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	if (json_object_object_get_ex(o, key, &v))
		return v;
	json_object_object_foreach(o, k, val)
	{
		if (strcasecmp(k, key) == 0)
			return val;
	}
	return NULL;
}

static void copy_ci(json_object *to, const char *to_key, json_object *from, const char *key)
{
	json_object *v = reconcile_get_ci(from, key);

	if (v && !json_object_is_type(v, json_type_null))
		json_object_object_add(to, to_key, json_object_get(v));
}

/* A Call Log record as the CDR Notification would have sent it (§1.2 keys),
 * so the voicenter profile maps it as it maps a push. */
json_object *reconcile_voicenter_body(json_object *rec)
{
	json_object *b = json_object_new_object(), *t = reconcile_get_ci(rec, "CdrType");
	int type = t ? json_object_get_int(t) : 0;

	copy_ci(b, "ivruniqueid", rec, "CallID");
	copy_ci(b, "caller", rec, "CallerNumber");
	copy_ci(b, "target", rec, "TargetNumber");
	/* Date is GMT ("…Z"): absolute, unlike the push's local epoch. */
	copy_ci(b, "time", rec, "Date");
	copy_ci(b, "duration", rec, "Duration");
	copy_ci(b, "status", rec, "DialStatus");
	copy_ci(b, "type", rec, "Type");
	copy_ci(b, "targetextension", rec, "TargetExtension");
	copy_ci(b, "callerextension", rec, "CallerExtension");
	copy_ci(b, "did", rec, "DID");
	copy_ci(b, "record", rec, "RecordURL");
	copy_ci(b, "representative_name", rec, "RepresentativeName");
	copy_ci(b, "representative_code", rec, "RepresentativeCode");
	copy_ci(b, "queuename", rec, "QueueName");
	copy_ci(b, "price", rec, "Price");
	copy_ci(b, "dialtime", rec, "RingTime");
	copy_ci(b, "cdrtype", rec, "CdrType");
	/* CdrType ids (§1.7): the direction a CRM module reads from them. */
	if (type == 1 || type == 8 || type == 11 || type == 18 || type == 19)
		json_object_object_add(b, "direction", json_object_new_string("incoming"));
	else if (type == 4 || type == 9 || type == 10 || type == 14 || type == 15)
		json_object_object_add(b, "direction", json_object_new_string("outgoing"));
	return b;
}

/* ERROR_NUMBER of a 200 answer: 1 is its rate limit (waited out with
 * backoff as a 429 is), 2 and 4 refused credentials. */
static enum pull_verdict voicenter_check(json_object *doc, const char **kind, char *msg, size_t len)
{
	json_object *err = reconcile_get_ci(doc, "ERROR_NUMBER");
	int code = err ? json_object_get_int(err) : 0;

	if (code == 0)
		return PULL_OK;
	if (code == 2 || code == 4) {
		*kind = "auth";
		snprintf(msg, len, "Voicenter refused the pull: error %d (%s)", code,
			 code == 2 ? "authentication" : "IP not authorised");
		return PULL_FAIL;
	}
	*kind = code == 1 ? "rate_limited" : "bad_answer";
	snprintf(msg, len, "Voicenter answered error %d: %.100s", code,
		 json_object_get_string(reconcile_get_ci(doc, "ERROR_DESCRIPTION")));
	return code == 1 ? PULL_RETRY : PULL_FAIL;
}

/* POST JSON with the key in it, GMT dates; at most 10,000 records an
 * answer (TOTAL_HITS says when there were more); about 30 requests a
 * minute. */
static const struct pull voicenter = {
    .url = "{pull_url}",
    .default_url = "https://api.voicenter.com/hub/cdr/",
    .post = true,
    .body = "{\"code\":\"{secret}\",\"search\":{\"fromdate\":\"{from}\",\"todate\":\"{to}\"}}",
    .time = PULL_TIME_PATTERN,
    .time_pattern = "%Y-%m-%dT%H:%M:%S",
    .time_utc = true,
    .records = "CDR_LIST",
    .total = "TOTAL_HITS",
    .next = PULL_NEXT_SPLIT,
    .page_size = 10000,
    .max_pages = 1,
    .pace_ms = 2000,
    .any_case = true,
    .check = voicenter_check,
    .to_push = reconcile_voicenter_body,
};

/* GET with the Auth-key header, wall-clock times of the project; the answer
 * is the list (at most 6,500), each record as Webhooks 2.0 sends it. */
static const struct pull ringostat = {
    .url = "{pull_url}?export_type=json&order=calldate%20asc&from={from}&to={to}",
    .default_url = "https://api.ringostat.net/calls/list",
    .time = PULL_TIME_PATTERN,
    .time_pattern = "%Y-%m-%d %H:%M:%S",
    .auth_header = "Auth-key",
    .auth_value = "{secret}",
    .records = "",
    .next = PULL_NEXT_SPLIT,
    .page_size = 6500,
    .max_pages = 1,
    .pace_ms = 500,
};

const struct pull *reconcile_vendor_pull(const char *vendor)
{
	if (vendor && strcmp(vendor, "voicenter") == 0)
		return &voicenter;
	if (vendor && strcmp(vendor, "ringostat") == 0)
		return &ringostat;
	return NULL;
}
