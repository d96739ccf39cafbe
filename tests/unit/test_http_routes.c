/* The route table: templates, the parameters they capture, and the listing
 * that --list-routes prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/http.h"

static enum MHD_Result noop(struct http_request *req, void *app)
{
	(void)req;
	(void)app;
	return MHD_YES;
}

static const struct http_route routes[] = {
	{ "GET", "/v1/calls", noop, false },
	{ "GET HEAD", "/v1/recordings/", noop, false },
	{ "POST", "/v1/tasks/{id}/done", noop, false },
	{ NULL, NULL, NULL, false },
};

static void test_listing_names_every_method_and_path(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	http_routes_print(routes, out);
	fclose(out);
	assert_string_equal(text, "GET /v1/calls\n"
				  "GET /v1/recordings/{...}\n"
				  "HEAD /v1/recordings/{...}\n"
				  "POST /v1/tasks/{id}/done\n");
	free(text);
}

static char *param(const char *path, const char *name)
{
	struct http_request req = { .route = &routes[2], .path = path };

	return http_path_param(&req, name);
}

static void test_template_parameters(void **state)
{
	char *v;

	(void)state;
	v = param("/v1/tasks/42/done", "id");
	assert_string_equal(v, "42");
	free(v);
	assert_null(param("/v1/tasks/42/done", "other"));
	assert_null(param("/v1/tasks//done", "id"));
	assert_null(param("/v1/tasks/42/done/x", "id"));
	assert_null(param("/v1/tasks/4/2/done", "id"));
	assert_null(param("/v1/tasks/42", "id"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listing_names_every_method_and_path),
		cmocka_unit_test(test_template_parameters),
	};

	return cmocka_run_group_tests_name("http_routes", tests, NULL, NULL);
}
