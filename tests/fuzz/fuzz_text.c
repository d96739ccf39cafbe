/* Text checks and the escaping of what the admin command prints: escaped
 * text is always clean (nothing a terminal would act on), the UTF-8 check
 * agrees with the form decoder's, and a lead field that passes is clean. */
// fuzz-seeds: tests/fixtures/generic/*.json
#include <strings.h>

#include "fuzz.h"
#include "ringlog/buf.h"
#include "ringlog/form.h"
#include "ringlog/lead.h"
#include "ringlog/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);
	size_t n = strlen(text);
	struct buf out = BUF_INIT;
	struct errbuf e;

	FUZZ_ASSERT(text_is_utf8(text, n) == (form_is_utf8(text, n) != 0));
	if (text_is_clean(text))
		FUZZ_ASSERT(text_is_utf8(text, n));
	text_escape(text, &out);
	FUZZ_ASSERT(text_is_clean(buf_str(&out)));
	if (text_is_clean(text))
		FUZZ_ASSERT(strcmp(buf_str(&out), text) == 0);
	if (lead_check_field("name", text, &e) == 0)
		FUZZ_ASSERT(text_is_clean(text) && n <= 512);
	if (lead_check_field("crm_url", text, &e) == 0)
		FUZZ_ASSERT(strncasecmp(text, "http", 4) == 0);
	buf_release(&out);
	free(text);
	return 0;
}
