#include "source_settings.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/auth.h"
#include "ringlog/buf.h"
#include "ringlog/phone.h"
#include "ringlog/upstream.h"
#include "ringlog/xalloc.h"

enum kind {
	TEXT,          /* the argument; "" clears the setting */
	CHOICE,        /* one of CHOICES */
	FLAG,          /* no argument: the row's VALUE */
	REGION,        /* a region libphonenumber knows (HU), any case; "" clears */
	SECRET_HASH,   /* a file (- = stdin) whose content is hashed (SHA-256) */
	GENERATE_HASH, /* no argument: a new random secret, hashed; printed once */
	SECRET_FILE,   /* a file (- = stdin) whose content is kept as is */
	JSON_FILE,     /* a file holding a JSON object */
	HOST_LIST,     /* repeatable: host names joined by spaces */
	URL_TEMPLATE,  /* as TEXT, checked by upstream_template_check */
	BYTES,         /* a size (k/M/G: powers of 1024) as a number; "" clears */
};

struct setting {
	const char *option;
	enum kind kind;
	const char *sql; /* $1 = the source name, $2 = the value */
	const char *const *choices;
	const char *value; /* FLAG */
	const char *help;
};

static const char *const vendors[] = { "generic", "voicenter", "ringostat", "freeswitch",
				       "asterisk", "custom", NULL };
static const char *const auth_modes[] = { "any", "basic", "header", "query", "none", NULL };
static const char *const fetch_modes[] = { "none", "basic", "query", "header", NULL };
static const char *const click2call_styles[] = { "none", "voicenter", "url_template", NULL };
static const char *const yes_no[] = { "yes", "no", NULL };

#define SET(col) "UPDATE sources SET " col " WHERE name = $1"

/* In the order they are applied: the secret before the auth mode that needs it. */
static const struct setting settings[] = {
	{ "vendor", CHOICE, SET("vendor = $2"), vendors, NULL,
	  "generic, voicenter, ringostat, freeswitch, asterisk, custom" },
	{ "user", TEXT, SET("auth_user = nullif($2, '')"), NULL, NULL,
	  "user name expected with HTTP Basic (default: any)" },
	{ "secret-file", SECRET_HASH, SET("secret_sha256 = decode($2, 'hex')"), NULL, NULL,
	  "read the push secret from FILE (- for stdin); only its hash is kept" },
	{ "generate-secret", GENERATE_HASH, SET("secret_sha256 = decode($2, 'hex')"), NULL, NULL,
	  "make a random push secret and print it once" },
	{ "auth", CHOICE, SET("auth_mode = $2"), auth_modes, NULL,
	  "how the PBX proves itself: any (default), basic, header, query, none" },
	{ "time-zone", TEXT, SET("time_zone = $2"), NULL, NULL,
	  "IANA zone of naive times (default UTC)" },
	{ "country-code", TEXT, SET("country_code = $2"), NULL, NULL,
	  "e.g. 972: numbers are normalised to E.164 with it" },
	{ "region", REGION, SET("region = nullif(upper($2), '')"), NULL, NULL,
	  "e.g. HU: numbers are read, checked and typed by libphonenumber's rules for it "
	  "(default: the main region of the country code)" },
	{ "trunk-prefix", TEXT, SET("trunk_prefix = $2"), NULL, NULL,
	  "national trunk prefix (default 0; 06 in Hungary)" },
	{ "international-prefix", TEXT, SET("international_prefix = $2"), NULL, NULL, "default 00" },
	{ "mapping-file", JSON_FILE, SET("mapping = nullif($2, '')::jsonb"), NULL, NULL,
	  "custom field mapping (a JSON object)" },
	{ "leads", FLAG, SET("create_leads = $2::boolean"), NULL, "true",
	  "ringlog creates leads and missed-call tasks (default)" },
	{ "no-leads", FLAG, SET("create_leads = $2::boolean"), NULL, "false",
	  "the CRM owns its leads: only link calls to them" },
	{ "keep-calls", TEXT, SET("keep_calls = ringlog_retention($2)"), NULL, NULL,
	  "retention of its calls: 400d, 12h, an interval, or forever (empty: the config's)" },
	{ "keep-recordings", TEXT, SET("keep_recordings = ringlog_retention($2)"), NULL, NULL,
	  "retention of its recordings (`ringlog maintain`)" },
	{ "keep-dead-letters", TEXT, SET("keep_dead_letters = ringlog_retention($2)"), NULL, NULL,
	  "retention of its dead letters" },
	{ "default-responsible", TEXT, SET("default_responsible = nullif($2, '')"), NULL, NULL,
	  "CRM user for missed calls and unmapped agents" },
	{ "crm-url-template", TEXT, SET("crm_url_template = nullif($2, '')"), NULL, NULL,
	  "lead card URL for screen pops; {id} (CRM id, else ringlog's), {phone} and {e164} are replaced" },
	{ "crm-new-url-template", TEXT, SET("crm_new_url_template = nullif($2, '')"), NULL, NULL,
	  "screen pop URL for an unknown caller (a new contact); {phone} and {e164} are replaced" },
	{ "fetch-url-template", URL_TEMPLATE, SET("fetch_url_template = nullif($2, '')"), NULL, NULL,
	  "recording URL; {ref} is replaced (URL-escaped; only in the path or query)" },
	{ "fetch-auth", CHOICE, SET("fetch_auth = $2"), fetch_modes, NULL,
	  "none, basic, query, header" },
	{ "fetch-user", TEXT, SET("fetch_user = nullif($2, '')"), NULL, NULL,
	  "user for recording fetches" },
	{ "fetch-secret-file", SECRET_FILE, SET("fetch_secret = nullif($2, '')"), NULL, NULL,
	  "password or key for recording fetches (- for stdin)" },
	{ "fetch-header", TEXT, SET("fetch_header = nullif($2, '')"), NULL, NULL,
	  "header carrying the key (e.g. Auth-key)" },
	{ "fetch-plain-http", CHOICE, SET("fetch_plain_http = ($2 = 'yes')"), yes_no, NULL,
	  "yes: fetch credentials may also go over plain http (default no: https only)" },
	{ "dead-letters-max", BYTES, SET("dead_letters_max = nullif($2, '')::bigint"), NULL, NULL,
	  "bytes of refused pushes kept for this source (e.g. 64M; \"\" = the daemon's dead_letters_max)" },
	{ "fetch-allow-host", HOST_LIST,
	  SET("fetch_allow_hosts = string_to_array(nullif($2, ''), ' ')"), NULL, NULL,
	  "host a pushed recording URL may point to (repeat; \"\" clears)" },
	{ "click2call-style", CHOICE, SET("click2call_style = $2"), click2call_styles, NULL,
	  "how the PBX starts a call: none, voicenter, url_template" },
	{ "click2call-url", TEXT, SET("click2call_url = nullif($2, '')"), NULL, NULL,
	  "Voicenter's click2call.aspx URL, or a template with {extension} {target} {user} "
	  "{password} {record}" },
	{ "click2call-user", TEXT, SET("click2call_user = nullif($2, '')"), NULL, NULL,
	  "user for click-to-call ({user} in a template)" },
	{ "reconcile", TEXT, SET("reconcile_every = CASE WHEN $2 IN ('', 'off') THEN NULL"
				 " ELSE ringlog_retention($2) END"), NULL, NULL,
	  "pull the PBX's call log this often (15m, 1h; off) and fill in lost pushes" },
	{ "reconcile-window", TEXT, SET("reconcile_window = ringlog_retention($2)"), NULL, NULL,
	  "how far back each scheduled pull reads (default 48h)" },
	{ "pull-url", TEXT, SET("pull_url = nullif($2, '')"), NULL, NULL,
	  "call log API URL (default: Voicenter's hub/cdr, Ringostat's calls/list)" },
	{ "pull-secret-file", SECRET_FILE, SET("pull_secret = nullif($2, '')"), NULL, NULL,
	  "Voicenter's code or Ringostat's Auth-key for the call log (- for stdin)" },
	{ "click2call-secret-file", SECRET_FILE, SET("click2call_secret = nullif($2, '')"), NULL, NULL,
	  "Voicenter's code, or the template's {password} (- for stdin)" },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

void source_settings_usage(void)
{
	printf("options (add and update):\n");
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		bool arg = s->kind != FLAG && s->kind != GENERATE_HASH;

		printf("  --%s%s\n      %s\n", s->option,
		       !arg ? "" : s->kind == SECRET_HASH || s->kind == SECRET_FILE || s->kind == JSON_FILE
				 ? " FILE" : " VALUE", s->help);
	}
	printf("Secrets are read from files or stdin, never from the command line.\n");
}

static char *read_json_file(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	json_object *obj;

	if (!f) {
		cli_fail("cannot read %s", path);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < (1 << 20))
		buf_add(&b, chunk, n);
	fclose(f);
	obj = json_tokener_parse(buf_str(&b));
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		buf_release(&b);
		cli_fail("%s is not a JSON object", path);
		return NULL;
	}
	json_object_put(obj);
	return buf_detach(&b, NULL);
}

static char *hashed(const char *secret)
{
	unsigned char sum[AUTH_SHA256_LEN];
	char *hex = xmalloc(2 * AUTH_SHA256_LEN + 1);

	auth_sha256(secret, strlen(secret), sum);
	auth_hex(sum, sizeof(sum), hex);
	return hex;
}

/* "64M" as "67108864"; "" stays "" (the setting is cleared). */
static char *bytes_value(const struct setting *s, const char *arg)
{
	char *end, *v;
	unsigned long long n;
	int shift = 0;

	if (!*arg)
		return xstrdup("");
	errno = 0;
	n = strtoull(arg, &end, 10);
	if (*end && strchr("kKmMgG", *end) && !end[1])
		shift = strchr("kK", *end) ? 10 : strchr("mM", *end) ? 20 : 30;
	else if (*end)
		end = NULL;
	if (!end || errno || !isdigit((unsigned char)*arg) || n > (1ULL << 62) >> shift) {
		cli_fail("--%s \"%s\" is not a size (bytes, or with k, M or G)", s->option, arg);
		return NULL;
	}
	v = xmalloc(24);
	snprintf(v, 24, "%llu", n << shift);
	return v;
}

/* The value of setting S given ARG, or NULL after printing why not. */
static char *value_of(const struct setting *s, const char *arg, const char *previous,
		      struct source_settings *out)
{
	char *v;

	switch (s->kind) {
	case TEXT: return xstrdup(arg);
	case URL_TEMPLATE: {
		struct errbuf e;

		if (*arg && upstream_template_check(arg, &e) < 0) {
			cli_fail("--%s: %s", s->option, e.msg);
			return NULL;
		}
		return xstrdup(arg);
	}
	case BYTES: return bytes_value(s, arg);
	case FLAG: return xstrdup(s->value);
	case REGION:
		v = xstrdup(arg);
		for (char *p = v; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (!*v || phone_region_is_known(v))
			return v;
		free(v);
		cli_fail("--%s \"%.8s\" is not a region libphonenumber knows (HU, IL, UA, US, ...)",
			 s->option, arg);
		return NULL;
	case JSON_FILE: return read_json_file(arg);
	case SECRET_FILE: return cli_read_secret(arg);
	case CHOICE:
		for (const char *const *c = s->choices; *c; c++)
			if (strcmp(*c, arg) == 0)
				return xstrdup(arg);
		cli_fail("--%s \"%s\" is not one of the known values (see --help)", s->option, arg);
		return NULL;
	case SECRET_HASH: {
		char *secret = cli_read_secret(arg);

		v = secret ? hashed(secret) : NULL;
		free(secret);
		return v;
	}
	case GENERATE_HASH:
		free(out->generated_secret);
		out->generated_secret = auth_new_token();
		if (!out->generated_secret)
			cli_fail("no randomness available");
		return out->generated_secret ? hashed(out->generated_secret) : NULL;
	case HOST_LIST:
		if (strchr(arg, ' ')) {
			cli_fail("--%s takes one host name", s->option);
			return NULL;
		}
		if (!*arg || !previous || !*previous)
			return xstrdup(arg);
		v = xmalloc(strlen(previous) + strlen(arg) + 2);
		sprintf(v, "%s %s", previous, arg);
		return v;
	}
	return NULL;
}

int source_settings_parse(int argc, char **argv, struct source_settings *s, const char *usage)
{
	struct option *opts = xcalloc(NSETTINGS + 2, sizeof(*opts));
	int c, rc = 0;

	s->values = xcalloc(NSETTINGS, sizeof(*s->values));
	s->generated_secret = NULL;
	for (size_t i = 0; i < NSETTINGS; i++) {
		bool arg = settings[i].kind != FLAG && settings[i].kind != GENERATE_HASH;

		opts[i] = (struct option){ settings[i].option, arg ? required_argument : no_argument,
					   NULL, (int)i + 1 };
	}
	opts[NSETTINGS] = (struct option){ "help", no_argument, NULL, 'h' };
	optind = 1;
	while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const struct setting *st;
		char *v;

		if (c == 'h') {
			printf("usage: %s\n\n", usage);
			source_settings_usage();
			rc = -1;
		} else if (c < 1 || c > (int)NSETTINGS) {
			rc = cli_usage(usage);
		} else {
			st = &settings[c - 1];
			v = value_of(st, optarg, s->values[c - 1], s);
			if (!v)
				rc = 1;
			free(s->values[c - 1]);
			s->values[c - 1] = v;
			/* --leads and --no-leads share a column: the last one wins. */
			if (v && st->kind == FLAG)
				for (size_t i = 0; i < NSETTINGS; i++)
					if (i != (size_t)c - 1 && settings[i].sql == st->sql) {
						free(s->values[i]);
						s->values[i] = NULL;
					}
		}
	}
	free(opts);
	return rc;
}

void source_settings_release(struct source_settings *s)
{
	for (size_t i = 0; s->values && i < NSETTINGS; i++)
		free(s->values[i]);
	free(s->values);
	free(s->generated_secret);
	s->values = NULL;
	s->generated_secret = NULL;
}

const char *source_settings_get(const struct source_settings *s, const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].option, name) == 0)
			return s->values[i];
	return NULL;
}

bool source_settings_has_auth(const struct source_settings *s)
{
	const char *auth = source_settings_get(s, "auth");

	return source_settings_get(s, "secret-file") || source_settings_get(s, "generate-secret") ||
	       (auth && strcmp(auth, "none") == 0);
}

int source_settings_apply(struct cli *cli, const struct source_settings *s, const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *params[] = { name, s->values[i] };
		PGresult *res;

		if (!s->values[i])
			continue;
		res = cli_query(cli, settings[i].sql, 2, params);
		if (!res)
			return 1;
		PQclear(res);
	}
	return 0;
}
