#include "fetcher.h"

const struct http_route fetcher_routes[] = {
	{ "GET", "/healthz", http_handle_healthz, false },
	{ "GET", "/readyz", http_handle_readyz, false },
	{ "GET", "/metrics", http_handle_metrics, false },
	{ "GET", "/v1/calls", fetcher_handle_calls, false },
	{ "GET", "/v1/calls/{id}", fetcher_handle_call, false },
	{ "GET", "/v1/export.csv", fetcher_handle_export, false },
	{ NULL, NULL, NULL, false },
};
