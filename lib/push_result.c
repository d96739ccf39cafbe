/* What a push became: outcome names and rejections. A leaf: the other push
 * files call it, it calls none of them. */
#include <stdio.h>
#include <string.h>

#include "ringlog/push.h"

static const char *const outcome_names[] = {
	[PUSH_STORED] = "stored",     [PUSH_UPDATED] = "updated",   [PUSH_DUPLICATE] = "duplicate",
	[PUSH_IGNORED] = "ignored",   [PUSH_ERASED] = "erased",     [PUSH_REJECTED] = "rejected",
	[PUSH_FAILED] = "failed",
};

const char *push_outcome_name(enum push_outcome o)
{
	return outcome_names[o];
}

int push_outcome_parse(const char *name)
{
	/* Only what the database may answer: never rejected or failed. */
	for (int o = PUSH_STORED; o <= PUSH_ERASED; o++)
		if (strcmp(name, outcome_names[o]) == 0)
			return o;
	return -1;
}

bool push_is_success(enum push_outcome o)
{
	return o == PUSH_STORED || o == PUSH_UPDATED || o == PUSH_DUPLICATE || o == PUSH_IGNORED ||
	       o == PUSH_ERASED;
}

void push_reject(struct push_result *r, unsigned status, const char *code, const char *field,
		 const char *msg)
{
	r->outcome = PUSH_REJECTED;
	r->status = status;
	r->error = code;
	snprintf(r->field, sizeof(r->field), "%s", field ? field : "");
	snprintf(r->message, sizeof(r->message), "%.500s", msg);
}
