#include "fetcher.h"

const struct http_route fetcher_routes[] = {
	{ "GET", "/v1/calls/live", fetcher_handle_live, false },
	{ "GET", "/v1/calls/live/stream", fetcher_handle_live_stream, false },
	{ "POST", "/v1/click2call", fetcher_handle_click2call, true },
	{ "POST", "/v1/erase", fetcher_handle_erase, true },
	{ "GET", "/v1/click2call/{id}", fetcher_handle_click2call_show, false },
	{ "POST", "/v1/ui/sessions", fetcher_handle_ui_session, true },
	{ "GET HEAD", "/ui/", fetcher_handle_ui, false },
	{ "GET HEAD", "/v1/recordings/", fetcher_handle_recording, false },
	{ "GET", "/healthz", http_handle_healthz, false },
	{ "GET", "/readyz", http_handle_readyz, false },
	{ "GET", "/metrics", http_handle_metrics, false },
	{ "GET", "/v1/calls", fetcher_handle_calls, false },
	{ "GET", "/v1/calls/{id}", fetcher_handle_call, false },
	{ "GET", "/v1/export.csv", fetcher_handle_export, false },
	{ "GET", "/v1/leads", fetcher_handle_leads, false },
	{ "POST", "/v1/leads", fetcher_handle_lead_upsert, true },
	{ "GET", "/v1/leads/{id}", fetcher_handle_lead, false },
	{ "GET", "/v1/tasks", fetcher_handle_tasks, false },
	{ "POST", "/v1/tasks/{id}/done", fetcher_handle_task_done, false },
	{ NULL, NULL, NULL, false },
};
