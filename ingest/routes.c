#include "ingest.h"

enum MHD_Result ingest_handle_cdr(struct http_request *req, void *app);
enum MHD_Result ingest_handle_screenpop(struct http_request *req, void *app);
enum MHD_Result ingest_handle_route(struct http_request *req, void *app);

const struct http_route ingest_routes[] = {
	{ "POST GET PUT", "/v1/cdr/", ingest_handle_cdr, HTTP_BODY_SPILL },
	{ "GET POST OPTIONS", "/v1/screenpop/", ingest_handle_screenpop, HTTP_BODY_MEMORY },
	{ "GET POST", "/v1/route/", ingest_handle_route, HTTP_BODY_MEMORY },
	{ "GET", "/healthz", http_handle_healthz, false },
	{ "GET", "/readyz", http_handle_readyz, false },
	{ "GET", "/metrics", http_handle_metrics, false },
	{ NULL, NULL, NULL, false },
};
