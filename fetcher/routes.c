#include "fetcher.h"

const struct http_route fetcher_routes[] = {
	{ "GET HEAD", "/v1/recordings/", fetcher_handle_recording, false },
	{ "GET", "/healthz", http_handle_healthz, false },
	{ "GET", "/readyz", http_handle_readyz, false },
	{ "GET", "/metrics", http_handle_metrics, false },
	{ NULL, NULL, NULL, false },
};
