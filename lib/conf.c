#include "ringlog/conf.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringlog/buf.h"
#include "ringlog/xalloc.h"

static bool name_eq(const char *a, const char *b, size_t blen)
{
	/* Compares a key name with user text where '-' may stand for '_'. */
	size_t i;

	for (i = 0; i < blen && a[i]; i++) {
		char x = a[i] == '-' ? '_' : a[i];
		char y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return i == blen && a[i] == '\0';
}

static int parse_number(const char *text, bool bytes, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text)
		return -1;
	if (bytes && *end) {
		int shift = 0;

		switch (tolower((unsigned char)*end)) {
		case 'k': shift = 10; break;
		case 'm': shift = 20; break;
		case 'g': shift = 30; break;
		default: return -1;
		}
		end++;
		if (tolower((unsigned char)*end) == 'i')
			end++;
		if (tolower((unsigned char)*end) == 'b')
			end++;
		/* No negative sizes: shifting one is undefined (found by fuzz_conf). */
		if (v < 0 || v > (1LL << (62 - shift)))
			return -1;
		v <<= shift;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *t, bool *out)
{
	static const char *yes[] = { "1", "yes", "true", "on" };
	static const char *no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < RL_ARRAY_LEN(yes); i++) {
		if (strcasecmp(t, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(t, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static int set_value(const struct conf_key *k, void *cfg, const char *text, const char *origin,
		     struct errbuf *e)
{
	char *field = (char *)cfg + k->offset;

	switch (k->type) {
	case CONF_STRING: {
		char **s = (char **)(void *)field;

		free(*s);
		*s = xstrdup(text);
		return 0;
	}
	case CONF_INT:
	case CONF_BYTES: {
		long long v;

		if (parse_number(text, k->type == CONF_BYTES, &v) < 0)
			return err_set(e, "%s: %s.%s: not a number: \"%s\"", origin, k->section,
				       k->name, text);
		if (v < k->min || v > k->max)
			return err_set(e, "%s: %s.%s = %lld is outside %lld..%lld", origin,
				       k->section, k->name, v, k->min, k->max);
		memcpy(field, &v, sizeof(v));
		return 0;
	}
	case CONF_BOOL: {
		bool v;

		if (parse_bool(text, &v) < 0)
			return err_set(e, "%s: %s.%s: expected yes or no, got \"%s\"", origin,
				       k->section, k->name, text);
		memcpy(field, &v, sizeof(v));
		return 0;
	}
	}
	return err_set(e, "%s: %s.%s: unknown type", origin, k->section, k->name);
}

struct file_ctx {
	const struct conf_key *keys;
	size_t nkeys;
	void *cfg;
	const char *path;
	struct errbuf *e;
	int failed;
};

static bool section_is_ours(const struct conf_key *keys, size_t nkeys, const char *section)
{
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].section, section) == 0)
			return true;
	return false;
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct file_ctx *f = user;

	if (f->failed)
		return 0;
	for (size_t i = 0; i < f->nkeys; i++) {
		const struct conf_key *k = &f->keys[i];

		if (strcmp(k->section, section) == 0 && name_eq(k->name, name, strlen(name))) {
			if (set_value(k, f->cfg, value, f->path, f->e) < 0)
				return f->failed = 1, 0;
			return 1;
		}
	}
	/* One file serves every ringlog program: a section this program has no
	 * key in belongs to another one. In our own sections, a stranger is a typo. */
	if (!section_is_ours(f->keys, f->nkeys, section))
		return 1;
	err_set(f->e, "%s: unknown key \"%s\" in section [%s]", f->path, name, section);
	f->failed = 1;
	return 0;
}

static int load_file(const struct conf_key *keys, size_t nkeys, void *cfg, const char *path,
		     struct errbuf *e)
{
	struct file_ctx f = { keys, nkeys, cfg, path, e, 0 };
	int rc = ini_parse(path, on_ini, &f);

	if (f.failed)
		return -1;
	if (rc == -1)
		return err_set(e, "cannot open config file %s: %s", path, strerror(errno));
	if (rc != 0)
		return err_set(e, "%s:%d: cannot parse this line", path, rc);
	return 0;
}

static void env_name(const struct conf_key *k, struct buf *out)
{
	buf_reset(out);
	buf_addf(out, "RINGLOG_%s_%s", k->section, k->name);
	for (size_t i = 0; i < out->len; i++)
		out->data[i] = out->data[i] == '-' ? '_' : (char)toupper((unsigned char)out->data[i]);
}

static int load_env(const struct conf_key *keys, size_t nkeys, void *cfg, struct errbuf *e)
{
	struct buf name = BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < nkeys && rc == 0; i++) {
		const char *v;

		env_name(&keys[i], &name);
		v = getenv(name.data);
		if (v)
			rc = set_value(&keys[i], cfg, v, name.data, e);
	}
	buf_release(&name);
	return rc;
}

static const struct conf_key *flag_key(const struct conf_key *keys, size_t nkeys,
				       const char *own, const char *flag, size_t len)
{
	for (size_t i = 0; i < nkeys; i++) {
		const struct conf_key *k = &keys[i];
		size_t sl = strlen(k->section);

		if (strcmp(k->section, own) == 0 && name_eq(k->name, flag, len))
			return k;
		if (len > sl + 1 && strncmp(flag, k->section, sl) == 0 && flag[sl] == '-' &&
		    name_eq(k->name, flag + sl + 1, len - sl - 1))
			return k;
	}
	return NULL;
}

/* Walks argv: program flags go to CLI; key flags are applied when APPLY. */
static int load_flags(const struct conf_key *keys, size_t nkeys, const char *own, void *cfg,
		      int argc, char **argv, struct conf_cli *cli, bool apply, struct errbuf *e)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *val;
		const struct conf_key *k;
		size_t len;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			cli->help = true;
			continue;
		}
		if (strcmp(a, "--version") == 0) {
			cli->version = true;
			continue;
		}
		if (strcmp(a, "--check-config") == 0) {
			cli->check_config = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			return err_set(e, "unexpected argument \"%s\" (see --help)", a);
		a += 2;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
		if (!val)
			return err_set(e, "--%.*s needs a value", (int)len, a);
		if (!eq)
			i++;
		if (name_eq("config", a, len) || (len == 1 && a[0] == 'c')) {
			cli->config_path = val;
			continue;
		}
		k = flag_key(keys, nkeys, own, a, len);
		if (!k)
			return err_set(e, "unknown option --%.*s (see --help)", (int)len, a);
		if (apply && set_value(k, cfg, val, "command line", e) < 0)
			return -1;
	}
	return 0;
}

int conf_load(const struct conf_key *keys, size_t nkeys, const char *own_section,
	      const char *default_path, void *cfg, int argc, char **argv,
	      struct conf_cli *cli, struct errbuf *e)
{
	memset(cli, 0, sizeof(*cli));
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].def && set_value(&keys[i], cfg, keys[i].def, "default", e) < 0)
			return -1;
	/* First pass only learns --config and the program flags. */
	if (load_flags(keys, nkeys, own_section, cfg, argc, argv, cli, false, e) < 0)
		return -1;
	if (cli->help || cli->version)
		return 0;
	if (!cli->config_path)
		cli->config_path = getenv("RINGLOG_CONFIG");
	if (!cli->config_path && default_path && access(default_path, R_OK) == 0)
		cli->config_path = default_path;
	if (cli->config_path && load_file(keys, nkeys, cfg, cli->config_path, e) < 0)
		return -1;
	if (load_env(keys, nkeys, cfg, e) < 0)
		return -1;
	return load_flags(keys, nkeys, own_section, cfg, argc, argv, cli, true, e);
}

void conf_release(const struct conf_key *keys, size_t nkeys, void *cfg)
{
	for (size_t i = 0; i < nkeys; i++) {
		if (keys[i].type == CONF_STRING) {
			char **s = (char **)(void *)((char *)cfg + keys[i].offset);

			free(*s);
			*s = NULL;
		}
	}
}

const struct conf_key *conf_find(const struct conf_key *keys, size_t nkeys, const char *section,
				 const char *name)
{
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

const char *conf_string(const struct conf_key *k, const void *cfg)
{
	const char *s = NULL;

	if (k && k->type == CONF_STRING)
		memcpy(&s, (const char *)cfg + k->offset, sizeof(s));
	return s;
}

bool conf_same(const struct conf_key *k, const void *a, const void *b)
{
	const char *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;

	switch (k->type) {
	case CONF_STRING: {
		const char *sa = conf_string(k, a), *sb = conf_string(k, b);

		return strcmp(sa ? sa : "", sb ? sb : "") == 0;
	}
	case CONF_INT:
	case CONF_BYTES:
		return memcmp(fa, fb, sizeof(long long)) == 0;
	case CONF_BOOL:
		return memcmp(fa, fb, sizeof(bool)) == 0;
	}
	return false;
}

void conf_print(const struct conf_key *keys, size_t nkeys, const void *cfg)
{
	const char *section = "";

	for (size_t i = 0; i < nkeys; i++) {
		const struct conf_key *k = &keys[i];
		const char *field = (const char *)cfg + k->offset;

		if (strcmp(section, k->section) != 0)
			printf("%s[%s]\n", i ? "\n" : "", section = k->section);
		printf("%s = ", k->name);
		if (k->secret) {
			printf("(hidden)\n");
			continue;
		}
		switch (k->type) {
		case CONF_STRING: {
			const char *s;

			memcpy(&s, field, sizeof(s));
			printf("%s\n", s ? s : "");
			break;
		}
		case CONF_INT:
		case CONF_BYTES: {
			long long v;

			memcpy(&v, field, sizeof(v));
			printf("%lld\n", v);
			break;
		}
		case CONF_BOOL: {
			bool v;

			memcpy(&v, field, sizeof(v));
			printf("%s\n", v ? "yes" : "no");
			break;
		}
		}
	}
}

static void flag_name(const struct conf_key *k, bool own, struct buf *out)
{
	buf_reset(out);
	buf_addf(out, "--%s%s%s", own ? "" : k->section, own ? "" : "-", k->name);
	for (size_t i = 0; i < out->len; i++)
		if (out->data[i] == '_')
			out->data[i] = '-';
}

void conf_usage(const char *program, const char *summary, const struct conf_key *keys,
		size_t nkeys, const char *own_section)
{
	struct buf env = BUF_INIT, flag = BUF_INIT;

	printf("usage: %s [--config FILE] [--check-config] [--KEY VALUE ...]\n\n%s\n\n", program,
	       summary);
	printf("  -c, --config FILE   configuration file (also $RINGLOG_CONFIG)\n"
	       "  --check-config      validate the configuration, print it, and exit\n"
	       "  -h, --help          this help\n\n"
	       "Every key can be set in the file ([section] key = value), in the environment,\n"
	       "or as a flag; later ones win:\n\n");
	for (size_t i = 0; i < nkeys; i++) {
		const struct conf_key *k = &keys[i];

		env_name(k, &env);
		flag_name(k, strcmp(k->section, own_section) == 0, &flag);
		printf("  %-22s %s (default: %s)\n  %-22s [%s] %s, $%s\n", flag.data, k->help,
		       k->def && *k->def ? k->def : "none", "", k->section, k->name, env.data);
	}
	buf_release(&env);
	buf_release(&flag);
}
