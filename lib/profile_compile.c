/* Custom mappings: a source's JSON mapping (README "Custom mappings")
 * compiled into the same struct profile the built-in tables are, so
 * profile_map() stays the one interpreter. */
#include "ringlog/profile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/pull.h"
#include "ringlog/xalloc.h"

#define MAX_RULES 512
#define MAX_WORDS 512
#define MAX_PATH 256
#define MAX_KEY 127
#define MAX_ANSWER 4096

/* A compiled profile and everything it owns. */
struct compiled {
	struct profile p; /* first: profile_free() casts back */
	struct profile_rule *rules;
	size_t nrules;
	struct profile_word *words[2]; /* directions, dispositions */
	size_t nwords[2];
	const char **lists[2];         /* json_strings, csv_columns */
	char **strings;                /* every string the tables point to */
	size_t nstrings;
	struct pull *pull;             /* the mapping's "pull", or NULL */
};

static const char *keep(struct compiled *c, const char *s)
{
	c->strings = xrealloc(c->strings, (c->nstrings + 1) * sizeof(*c->strings));
	c->strings[c->nstrings] = xstrdup(s);
	return c->strings[c->nstrings++];
}

void profile_free(struct profile *p)
{
	struct compiled *c = (struct compiled *)p;

	if (!c)
		return;
	for (size_t i = 0; i < c->nstrings; i++)
		free(c->strings[i]);
	free(c->strings);
	free(c->rules);
	free(c->words[0]);
	free(c->words[1]);
	free(c->lists[0]);
	free(c->lists[1]);
	pull_free(c->pull);
	free(c);
}

/* ---- validation helpers ------------------------------------------------- */

/* "a.b[0].c": keys of 1..MAX_KEY bytes without '.', '[' or ']', indexes
 * of digits. */
int profile_check_path(const char *path, const char *where, struct errbuf *e)
{
	const char *p = path;
	size_t n = strlen(path);

	if (n == 0 || n > MAX_PATH)
		return err_set(e, "%s: a path must be 1 to %d bytes", where, MAX_PATH);
	while (*p) {
		size_t k = strcspn(p, ".[]");

		if (k == 0 || k > MAX_KEY)
			return err_set(e, "%s: \"%.80s\" is not a path like \"a.b[0].c\"", where, path);
		p += k;
		while (*p == '[') {
			size_t d = strspn(p + 1, "0123456789");

			if (d == 0 || d > 6 || p[1 + d] != ']')
				return err_set(e, "%s: \"%.80s\" has a bad [index]", where, path);
			p += d + 2;
		}
		if (*p == '.' && p[1])
			p++;
		else if (*p)
			return err_set(e, "%s: \"%.80s\" is not a path like \"a.b[0].c\"", where, path);
	}
	return 0;
}

static int field_by_name(const char *name)
{
	for (int f = 0; f < CDR_F_COUNT; f++)
		if (strcmp(profile_field_name((enum cdr_field)f), name) == 0)
			return f;
	return -1;
}

static const struct {
	const char *name;
	enum profile_conv conv;
} conv_names[] = {
	{ "text", CONV_TEXT },
	{ "seconds", CONV_SECONDS },
	{ "time", CONV_TIME },
	{ "time_local", CONV_TIME_LOCAL },
	{ "direction", CONV_DIRECTION },
	{ "disposition", CONV_DISPOSITION },
	{ "clid_name", CONV_CLID_NAME },
	{ "clid_number", CONV_CLID_NUMBER },
	{ "extension", CONV_EXTENSION },
	{ "channel_extension", CONV_CHANNEL_EXT },
	{ "join_path", CONV_JOIN_PATH },
};

static bool is_time_field(int f)
{
	return f == CDR_F_STARTED_AT || f == CDR_F_ANSWERED_AT || f == CDR_F_ENDED_AT;
}

static enum profile_conv default_conv(int f)
{
	if (f == CDR_F_DIRECTION)
		return CONV_DIRECTION;
	if (f == CDR_F_DISPOSITION)
		return CONV_DISPOSITION;
	if (is_time_field(f))
		return CONV_TIME;
	if (f == CDR_F_DURATION || f == CDR_F_BILLABLE)
		return CONV_SECONDS;
	return CONV_TEXT;
}

/* A converter fits a field when it yields what the field holds. */
static bool conv_fits(enum profile_conv conv, int f)
{
	switch (conv) {
	case CONV_DIRECTION: return f == CDR_F_DIRECTION;
	case CONV_DISPOSITION: return f == CDR_F_DISPOSITION;
	case CONV_TIME:
	case CONV_TIME_LOCAL: return is_time_field(f);
	case CONV_SECONDS: return f == CDR_F_DURATION || f == CDR_F_BILLABLE;
	default: return default_conv(f) == CONV_TEXT;
	}
}

static int conv_by_name(const char *name, enum profile_conv *out)
{
	for (size_t i = 0; i < RL_ARRAY_LEN(conv_names); i++) {
		if (strcmp(conv_names[i].name, name) == 0) {
			*out = conv_names[i].conv;
			return 0;
		}
	}
	return -1;
}

static const char *string_member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Only the KEYS are allowed in object O. */
static int check_keys(json_object *o, const char *const *keys, const char *where, struct errbuf *e)
{
	json_object_object_foreach(o, key, val) {
		const char *const *k = keys;

		(void)val;
		while (*k && strcmp(*k, key) != 0)
			k++;
		if (!*k)
			return err_set(e, "%s: unknown key \"%.60s\"", where, key);
	}
	return 0;
}

/* ---- rules -------------------------------------------------------------- */

static int rule_if(struct compiled *c, json_object *spec, struct profile_rule *r, const char *where,
		   struct errbuf *e)
{
	static const char *const keys[] = { "path", "equals", NULL };
	json_object *cond;
	const char *path, *value;

	if (!json_object_object_get_ex(spec, "if", &cond))
		return 0;
	path = string_member(cond, "path");
	value = string_member(cond, "equals");
	if (!json_object_is_type(cond, json_type_object) || check_keys(cond, keys, where, e) < 0 ||
	    !path || !value)
		return e->msg[0] ? -1 : err_set(e, "%s: \"if\" needs {\"path\": …, \"equals\": …}", where);
	if (profile_check_path(path, where, e) < 0)
		return -1;
	r->if_path = keep(c, path);
	r->if_value = keep(c, value);
	return 0;
}

/* One place to look: "path" or {"path", "convert", "join", "if"}. */
static int add_rule(struct compiled *c, int field, json_object *spec, const char *where,
		    struct errbuf *e)
{
	static const char *const keys[] = { "path", "convert", "join", "if", NULL };
	struct profile_rule r = { (enum cdr_field)field, NULL, default_conv(field), NULL, NULL, NULL };
	const char *path = json_object_get_string(spec), *conv, *join;

	e->msg[0] = '\0';
	if (c->nrules == MAX_RULES)
		return err_set(e, "a mapping may hold at most %d rules", MAX_RULES);
	if (json_object_is_type(spec, json_type_object)) {
		if (check_keys(spec, keys, where, e) < 0)
			return -1;
		path = string_member(spec, "path");
		conv = string_member(spec, "convert");
		join = string_member(spec, "join");
		if (conv && conv_by_name(conv, &r.conv) < 0)
			return err_set(e, "%s: unknown converter \"%.40s\" (text, seconds, time, "
				       "time_local, direction, disposition, clid_name, clid_number, "
				       "extension, channel_extension, join_path)", where, conv);
		if (join) {
			if (conv && r.conv != CONV_JOIN_PATH)
				return err_set(e, "%s: \"join\" goes with the join_path converter", where);
			if (profile_check_path(join, where, e) < 0)
				return -1;
			r.conv = CONV_JOIN_PATH;
			r.path2 = keep(c, join);
		} else if (r.conv == CONV_JOIN_PATH) {
			return err_set(e, "%s: join_path needs \"join\": the second path", where);
		}
		if (rule_if(c, spec, &r, where, e) < 0)
			return -1;
	} else if (!json_object_is_type(spec, json_type_string)) {
		return err_set(e, "%s: a rule is a path or {\"path\": …}", where);
	}
	if (!path || profile_check_path(path, where, e) < 0)
		return e->msg[0] ? -1 : err_set(e, "%s: a rule needs a \"path\"", where);
	if (!conv_fits(r.conv, field))
		return err_set(e, "%s: this converter does not give a %s", where,
			       profile_field_name((enum cdr_field)field));
	r.path = keep(c, path);
	c->rules = xrealloc(c->rules, (c->nrules + 1) * sizeof(*c->rules));
	c->rules[c->nrules++] = r;
	return 0;
}

static int add_fields(struct compiled *c, json_object *fields, struct errbuf *e)
{
	char where[160];

	if (!json_object_is_type(fields, json_type_object))
		return err_set(e, "\"fields\" must be an object of canonical field -> path(s)");
	json_object_object_foreach(fields, name, spec) {
		int f = field_by_name(name);
		size_t n = json_object_is_type(spec, json_type_array) ? json_object_array_length(spec) : 1;

		snprintf(where, sizeof(where), "fields.%.60s", name);
		if (f < 0)
			return err_set(e, "%s: not a canonical field (call_id, direction, disposition, "
				       "caller, caller_name, callee, did, agent, agent_name, started_at, "
				       "answered_at, ended_at, duration, billsec, recording_id, "
				       "recording_url, recording_base64, recording2_url, leg_of)", where);
		for (size_t i = 0; i < n; i++) {
			json_object *one = json_object_is_type(spec, json_type_array)
						   ? json_object_array_get_idx(spec, i) : spec;

			if (add_rule(c, f, one, where, e) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- words, lists, the rest --------------------------------------------- */

static int canonical_value(int which, const char *name)
{
	static const char *const directions[] = { "in", "out", "internal", NULL };
	static const int dir_values[] = { CDR_IN, CDR_OUT, CDR_INTERNAL };
	static const char *const dispositions[] = { "answered", "missed", "busy", "failed",
						    "voicemail", "in_progress", NULL };
	static const int disp_values[] = { CDR_ANSWERED, CDR_MISSED, CDR_BUSY,
					   CDR_FAILED, CDR_VOICEMAIL, CDR_IN_PROGRESS };
	const char *const *names = which ? dispositions : directions;

	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return which ? disp_values[i] : dir_values[i];
	return -1;
}

/* The mapping's words (WHICH 0: directions, 1: dispositions) first, then
 * the base profile's. */
static int add_words(struct compiled *c, int which, json_object *words,
		     const struct profile_word *base, struct errbuf *e)
{
	static const char *const what[] = { "directions", "dispositions" };
	size_t n = 0, nbase = 0;

	if (words && !json_object_is_type(words, json_type_object))
		return err_set(e, "\"%s\" must be an object of vendor word -> canonical value", what[which]);
	while (base && base[nbase].word)
		nbase++;
	if ((words ? (size_t)json_object_object_length(words) : 0) + nbase > MAX_WORDS)
		return err_set(e, "\"%s\": at most %d words", what[which], MAX_WORDS);
	c->words[which] = xcalloc((words ? (size_t)json_object_object_length(words) : 0) + nbase + 1,
				  sizeof(struct profile_word));
	if (words) {
		json_object_object_foreach(words, word, val) {
			int v = json_object_is_type(val, json_type_string)
					? canonical_value(which, json_object_get_string(val)) : -1;

			if (v < 0)
				return err_set(e, "%s.%.60s: not one of %s", what[which], word,
					       which ? "answered, missed, busy, failed, voicemail, in_progress"
						     : "in, out, internal");
			c->words[which][n++] = (struct profile_word){ keep(c, word), v };
		}
	}
	for (size_t i = 0; i < nbase; i++)
		c->words[which][n++] = base[i];
	return 0;
}

/* A list of paths or names (WHICH 0: json_strings, 1: csv_columns). */
static int add_list(struct compiled *c, int which, json_object *list, struct errbuf *e)
{
	static const char *const what[] = { "json_strings", "csv_columns" };
	size_t n;

	if (!json_object_is_type(list, json_type_array) || json_object_array_length(list) > 1024)
		return err_set(e, "\"%s\" must be an array of at most 1024 strings", what[which]);
	n = json_object_array_length(list);
	c->lists[which] = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(list, i);

		if (!json_object_is_type(v, json_type_string) ||
		    (which == 0 && profile_check_path(json_object_get_string(v), what[which], e) < 0))
			return e->msg[0] ? -1 : err_set(e, "\"%s\" must hold strings", what[which]);
		c->lists[which][i] = keep(c, json_object_get_string(v));
	}
	return 0;
}

static int set_flags(struct compiled *c, json_object *flags, struct errbuf *e)
{
	static const struct {
		const char *name;
		unsigned flag;
	} names[] = {
		{ "strict_words", PROFILE_STRICT_WORDS },
		{ "in_progress_without_end", PROFILE_OPEN_WITHOUT_END },
		{ "talk_means_answered", PROFILE_TALK_MEANS_ANSWERED },
		{ "direction_by_numbers", PROFILE_DIRECTION_BY_NUMBERS },
	};

	if (!json_object_is_type(flags, json_type_array))
		return err_set(e, "\"flags\" must be an array of names");
	c->p.flags = 0;
	for (size_t i = 0; i < json_object_array_length(flags); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(flags, i));
		size_t k = 0;

		while (k < RL_ARRAY_LEN(names) && (!f || strcmp(names[k].name, f) != 0))
			k++;
		if (k == RL_ARRAY_LEN(names))
			return err_set(e, "flags: unknown flag \"%.40s\" (strict_words, "
				       "in_progress_without_end, talk_means_answered, direction_by_numbers)",
				       f ? f : "");
		c->p.flags |= names[k].flag;
	}
	return 0;
}

static int set_answer(struct compiled *c, json_object *answer, struct errbuf *e)
{
	const char *text = json_object_is_type(answer, json_type_string)
				   ? json_object_get_string(answer)
				   : json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PLAIN);

	if (!json_object_is_type(answer, json_type_string) &&
	    !json_object_is_type(answer, json_type_object))
		return err_set(e, "\"answer\" must be a JSON object or a string");
	if (strlen(text) > MAX_ANSWER)
		return err_set(e, "\"answer\" is longer than %d bytes", MAX_ANSWER);
	c->p.ack_body = keep(c, text);
	return 0;
}

/* Path-valued settings: "unwrap" (a key) and "percent_encoded" (a path). */
static int set_paths(struct compiled *c, json_object *m, struct errbuf *e)
{
	json_object *v;

	if (json_object_object_get_ex(m, "unwrap", &v)) {
		if (!json_object_is_type(v, json_type_string) || !*json_object_get_string(v) ||
		    strcspn(json_object_get_string(v), ".[]") != strlen(json_object_get_string(v)))
			return err_set(e, "\"unwrap\" must be a top-level key, like \"cdr\"");
		c->p.unwrap = keep(c, json_object_get_string(v));
	}
	if (json_object_object_get_ex(m, "percent_encoded", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    profile_check_path(json_object_get_string(v), "percent_encoded", e) < 0)
			return e->msg[0] ? -1 : err_set(e, "\"percent_encoded\" must be a path");
		c->p.encoded_values = keep(c, json_object_get_string(v));
	}
	return 0;
}

static const struct profile *mapping_base(json_object *m, const char *base, struct errbuf *e)
{
	json_object *v;
	const struct profile *p;

	if (json_object_object_get_ex(m, "base", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return err_set(e, "\"base\" must name a built-in profile"), NULL;
		base = json_object_get_string(v);
	}
	if (!base)
		return NULL;
	p = profile_find(base);
	if (!p)
		err_set(e, "base: \"%.40s\" is not a built-in profile (generic, voicenter, ringostat, "
			"freeswitch, asterisk)", base);
	return p;
}

static int compile_into(struct compiled *c, json_object *m, const struct profile *b, struct errbuf *e)
{
	static const char *const keys[] = { "base", "fields", "directions", "dispositions",
					    "unwrap", "percent_encoded", "json_strings",
					    "csv_columns", "flags", "answer", "pull", NULL };
	const struct profile *words;
	json_object *v;

	if (check_keys(m, keys, "mapping", e) < 0)
		return -1;
	if (json_object_object_get_ex(m, "fields", &v) && add_fields(c, v, e) < 0)
		return -1;
	for (size_t i = 0; b && i < b->nrules; i++) {
		c->rules = xrealloc(c->rules, (c->nrules + 1) * sizeof(*c->rules));
		c->rules[c->nrules++] = b->rules[i];
	}
	/* Without a base, the canonical words (in, out, answered, …) still hold. */
	words = b ? b : profile_find("generic");
	if (add_words(c, 0, json_object_object_get_ex(m, "directions", &v) ? v : NULL,
		      words->directions, e) < 0 ||
	    add_words(c, 1, json_object_object_get_ex(m, "dispositions", &v) ? v : NULL,
		      words->dispositions, e) < 0)
		return -1;
	if ((json_object_object_get_ex(m, "json_strings", &v) && add_list(c, 0, v, e) < 0) ||
	    (json_object_object_get_ex(m, "csv_columns", &v) && add_list(c, 1, v, e) < 0) ||
	    (json_object_object_get_ex(m, "flags", &v) && set_flags(c, v, e) < 0) ||
	    (json_object_object_get_ex(m, "answer", &v) && set_answer(c, v, e) < 0) ||
	    set_paths(c, m, e) < 0)
		return -1;
	if (json_object_object_get_ex(m, "pull", &v) && !(c->pull = pull_compile(v, e)))
		return -1;
	if (c->nrules == 0)
		return err_set(e, "the mapping has no fields and no base profile");
	return 0;
}

struct profile *profile_compile(json_object *mapping, const char *base, struct errbuf *e)
{
	struct compiled *c;
	const struct profile *b;

	if (!json_object_is_type(mapping, json_type_object)) {
		err_set(e, "a mapping is a JSON object");
		return NULL;
	}
	e->msg[0] = '\0';
	b = mapping_base(mapping, base, e);
	if (!b && e->msg[0])
		return NULL;
	c = xcalloc(1, sizeof(*c));
	if (b) {
		c->p = *b; /* flags, preparation and answer unless the mapping says */
		c->p.json_strings = b->json_strings;
		c->p.csv_columns = b->csv_columns;
	}
	if (compile_into(c, mapping, b, e) < 0) {
		profile_free(&c->p);
		return NULL;
	}
	c->p.name = "custom";
	if (c->pull)
		c->p.pull = c->pull;
	c->p.rules = c->rules;
	c->p.nrules = c->nrules;
	c->p.directions = c->words[0];
	c->p.dispositions = c->words[1];
	if (c->lists[0])
		c->p.json_strings = c->lists[0];
	if (c->lists[1])
		c->p.csv_columns = c->lists[1];
	return &c->p;
}

const struct profile *profile_for_source(const char *vendor, json_object *mapping,
					 struct profile **owned, struct errbuf *e)
{
	const struct profile *builtin = profile_find(vendor);
	bool custom = vendor && strcmp(vendor, "custom") == 0;

	*owned = NULL;
	if (!mapping && !custom) {
		if (!builtin)
			err_set(e, "the vendor profile \"%.40s\" is not built in", vendor ? vendor : "");
		return builtin;
	}
	if (!mapping) {
		err_set(e, "a custom source needs a mapping (ringlog source update --mapping-file)");
		return NULL;
	}
	if (!builtin && !custom) {
		err_set(e, "the vendor profile \"%.40s\" is not built in", vendor ? vendor : "");
		return NULL;
	}
	*owned = profile_compile(mapping, custom ? NULL : vendor, e);
	return *owned;
}
