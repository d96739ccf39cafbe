#include "fetcher.h"

const struct http_route fetcher_routes[] = {
	{ "POST", "/v1/click2call", fetcher_handle_click2call, true },
	{ "GET", "/v1/click2call/", fetcher_handle_click2call_show, false },
	{ "POST", "/v1/ui/sessions", fetcher_handle_ui_session, true },
	{ "GET HEAD", "/ui/", fetcher_handle_ui, false },
	{ "GET", "/healthz", http_handle_healthz, false },
	{ "GET", "/readyz", http_handle_readyz, false },
	{ "GET", "/metrics", http_handle_metrics, false },
	{ NULL, NULL, NULL, false },
};
