/* The reference call-log page under /ui/: static files read once at start
 * from ui_dir and served from memory (no path from a request reaches the
 * file system), and POST /v1/ui/sessions, with which the CRM's backend gives
 * a browser a short-lived token for the page. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fetcher.h"
#include "ringlog/auth.h"
#include "ringlog/xalloc.h"

#define UI_MAX_FILES 64
#define UI_MAX_FILE (4 << 20)

struct ui_file {
	char *name;
	char *data;
	size_t len;
	const char *type;
	char etag[24];
};

struct ui {
	struct ui_file files[UI_MAX_FILES];
	size_t count;
};

static const char *content_type(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },   { ".svg", "image/svg+xml" },
		{ ".png", "image/png" },                 { ".ico", "image/x-icon" },
		{ ".json", "application/json" },         { ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < RL_ARRAY_LEN(types); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

static int load_file(struct ui_file *f, const char *dir, const char *name, struct errbuf *e)
{
	char path[PATH_MAX];
	unsigned char sum[AUTH_SHA256_LEN];
	char hex[2 * AUTH_SHA256_LEN + 1];
	struct buf b = BUF_INIT;
	char chunk[8192];
	FILE *in;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	in = fopen(path, "rb");
	if (!in)
		return err_set(e, "cannot read %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0 && b.len <= UI_MAX_FILE)
		buf_add(&b, chunk, n);
	fclose(in);
	auth_sha256(buf_str(&b), b.len, sum);
	auth_hex(sum, 8, hex);
	snprintf(f->etag, sizeof(f->etag), "\"%.16s\"", hex);
	f->name = xstrdup(name);
	f->type = content_type(name);
	f->data = buf_detach(&b, &f->len);
	return 0;
}

struct ui *fetcher_ui_load(const char *dir, struct errbuf *e)
{
	struct ui *ui = xcalloc(1, sizeof(*ui));
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		err_set(e, "cannot open the UI directory %s: %s", dir, strerror(errno));
		free(ui);
		return NULL;
	}
	while ((de = readdir(d)) && ui->count < UI_MAX_FILES) {
		if (de->d_name[0] == '.' || !content_type(de->d_name) ||
		    strspn(de->d_name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(de->d_name))
			continue;
		if (load_file(&ui->files[ui->count], dir, de->d_name, e) < 0) {
			closedir(d);
			fetcher_ui_free(ui);
			return NULL;
		}
		ui->count++;
	}
	closedir(d);
	return ui;
}

void fetcher_ui_free(struct ui *ui)
{
	if (!ui)
		return;
	for (size_t i = 0; i < ui->count; i++) {
		free(ui->files[i].name);
		free(ui->files[i].data);
	}
	free(ui);
}

static const struct ui_file *find(const struct ui *ui, const char *name)
{
	for (size_t i = 0; ui && i < ui->count; i++)
		if (strcmp(ui->files[i].name, name) == 0)
			return &ui->files[i];
	return NULL;
}

static void security_headers(struct fetcher *f, struct http_request *req)
{
	struct buf csp = BUF_INIT;
	const char *pub = f->cfg->public_url && *f->cfg->public_url ? f->cfg->public_url : "";

	buf_addf(&csp, "default-src 'self'; img-src 'self' data:; media-src 'self'%s%s; "
		 "connect-src 'self'%s%s; frame-ancestors %s", *pub ? " " : "", pub, *pub ? " " : "",
		 pub, f->cfg->ui_frame_ancestors);
	http_add_header(req, "Content-Security-Policy", csp.data);
	http_add_header(req, "X-Content-Type-Options", "nosniff");
	http_add_header(req, "Referrer-Policy", "no-referrer");
	buf_release(&csp);
}

enum MHD_Result fetcher_handle_ui(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	const char *name = http_path_tail(req), *inm;
	const struct ui_file *file;

	if (!f->ui)
		return http_reply_error(req, 404, "not_found", "the UI is not installed (ui_dir)");
	file = find(f->ui, *name ? name : "index.html");
	if (!file)
		return http_reply_error(req, 404, "not_found", "no such file: %.64s", name);
	http_add_header(req, "ETag", file->etag);
	http_add_header(req, "Cache-Control", "no-cache");
	security_headers(f, req);
	inm = http_header(req, "If-None-Match");
	if (inm && strstr(inm, file->etag))
		return http_reply(req, 304, NULL, "", 0);
	return http_reply(req, 200, file->type, file->data, file->len);
}

enum MHD_Result fetcher_handle_ui_session(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	json_object *body, *v, *o;
	const char *user = NULL;
	long long ttl = f->cfg->ui_session_ttl_s, expires;
	struct buf token = BUF_INIT;
	enum MHD_Result rc;

	if (!fetcher_authorized_backend(f, req, &rc))
		return rc;
	body = json_tokener_parse(buf_str(&req->body));
	if (body && json_object_object_get_ex(body, "user", &v) && json_object_is_type(v, json_type_string))
		user = json_object_get_string(v);
	if (body && json_object_object_get_ex(body, "ttl", &v))
		ttl = json_object_get_int64(v);
	if (!user || !*user || strlen(user) > 128 || strpbrk(user, "\r\n\t") || ttl < 60 || ttl > 86400) {
		json_object_put(body);
		return http_reply_error(req, 400, "invalid_request",
					"send {\"user\": \"<the CRM user>\", \"ttl\": 60..86400 seconds}");
	}
	expires = (long long)time(NULL) + ttl;
	fetcher_ui_token(f, req, user, expires, &token);
	o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(token.data));
	json_object_object_add(o, "user", json_object_new_string(user));
	json_object_object_add(o, "expires", json_object_new_int64(expires));
	rc = http_reply_json(req, 201, o);
	buf_release(&token);
	json_object_put(body);
	return rc;
}
