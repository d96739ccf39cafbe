#include "ringlog/lead.h"

#include <string.h>
#include <strings.h>

#include "ringlog/text.h"

static const struct {
	const char *name;
	size_t max;
} fields[] = {
	{ "name", 512 }, { "company", 512 }, { "crm_id", 256 }, { "crm_url", 2048 },
	{ "responsible", 256 },
};

int lead_check_field(const char *field, const char *value, struct errbuf *e)
{
	size_t max = 0;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].name, field) == 0)
			max = fields[i].max;
	if (!max)
		return err_set(e, "%s is not a field of a lead", field);
	if (strlen(value) > max)
		return err_set(e, "%s is too long (at most %zu bytes)", field, max);
	if (!text_is_clean(value))
		return err_set(e, "%s must be UTF-8 text without control characters", field);
	if (strcmp(field, "crm_url") == 0 && strncasecmp(value, "https://", 8) != 0 &&
	    strncasecmp(value, "http://", 7) != 0)
		return err_set(e, "crm_url must be an http:// or https:// URL");
	return 0;
}
