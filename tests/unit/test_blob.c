/* The file-system blob store: content-addressed, durable puts, dedup,
 * readers with descriptors, limits, and keys that cannot name a path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ringlog/blob.h"

/* sha256("hello world") */
#define HELLO_KEY "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"

struct fixture {
	char dir[64];
	struct blob_store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct errbuf e;

	snprintf(f->dir, sizeof(f->dir), "/tmp/ringlog-blob-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->s = blob_store_open(f->dir, &e);
	*state = f;
	return f->s ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	blob_store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void put(struct blob_store *s, const char *data, struct blob_info *info)
{
	struct errbuf e;
	struct blob_writer *w = blob_put_begin(s, 0, &e);

	assert_non_null(w);
	assert_int_equal(blob_write(w, data, 5, &e), 0);
	assert_int_equal(blob_write(w, data + 5, strlen(data) - 5, &e), 0);
	assert_int_equal(blob_commit(w, info, &e), 0);
	blob_writer_free(w);
}

static int count_files(const char *dir)
{
	char cmd[160];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find %s -type f | wc -l", dir);
	p = popen(cmd, "r");
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

static void test_put_is_content_addressed_and_stored_once(void **state)
{
	struct fixture *f = *state;
	struct blob_info a, b, st;
	char path[256];
	struct errbuf e;
	bool missing;

	put(f->s, "hello world", &a);
	assert_string_equal(a.key, HELLO_KEY);
	assert_int_equal(a.size, 11);
	snprintf(path, sizeof(path), "%s/b9/4d/%s", f->dir, HELLO_KEY);
	assert_int_equal(access(path, R_OK), 0);
	put(f->s, "hello world", &b);
	assert_string_equal(b.key, a.key);
	assert_int_equal(count_files(f->dir), 1); /* once, and no temp file left */
	assert_int_equal(blob_stat(f->s, HELLO_KEY, &st, &missing, &e), 0);
	assert_int_equal(st.size, 11);
	assert_memory_equal(st.sha256, a.sha256, AUTH_SHA256_LEN);
}

static void test_reader_gives_size_bytes_and_a_descriptor(void **state)
{
	struct fixture *f = *state;
	struct blob_info info;
	struct blob_reader *r;
	struct errbuf e;
	char buf[16] = { 0 };
	bool missing = true;

	put(f->s, "hello world", &info);
	r = blob_open(f->s, info.key, &missing, &e);
	assert_non_null(r);
	assert_false(missing);
	assert_int_equal(blob_reader_size(r), 11);
	assert_int_equal(blob_pread(r, buf, 5, 6), 5);
	assert_string_equal(buf, "world");
	assert_int_equal(blob_pread(r, buf, 5, 11), 0);
	assert_true(blob_reader_fd(r) >= 0);
	blob_reader_close(r);
	assert_null(blob_open(f->s, "0000000000000000000000000000000000000000000000000000000000000000",
			      &missing, &e));
	assert_true(missing);
}

static void test_keys_never_name_a_path(void **state)
{
	struct fixture *f = *state;
	struct blob_info info;
	struct errbuf e;
	bool missing;

	assert_true(blob_key_is_valid(HELLO_KEY));
	assert_false(blob_key_is_valid(NULL));
	assert_false(blob_key_is_valid(""));
	assert_false(blob_key_is_valid("../../../../etc/passwd"));
	assert_false(blob_key_is_valid(HELLO_KEY "0"));
	assert_false(blob_key_is_valid("B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9"));
	assert_null(blob_open(f->s, "../b9/4d/" HELLO_KEY, &missing, &e));
	assert_int_equal(blob_stat(f->s, "..", &info, &missing, &e), -1);
	assert_int_equal(blob_remove(f->s, "/etc/passwd", &e), -1);
}

static void test_limit_and_discard(void **state)
{
	struct fixture *f = *state;
	struct errbuf e;
	struct blob_writer *w = blob_put_begin(f->s, 8, &e);
	char buf[8];

	assert_int_equal(blob_write(w, "12345", 5, &e), 0);
	assert_int_equal(blob_writer_pread(w, buf, 3, 1), 3);
	assert_memory_equal(buf, "234", 3);
	assert_int_equal(blob_write(w, "6789", 4, &e), -1);
	assert_true(blob_writer_too_large(w));
	assert_int_equal(blob_writer_size(w), 5);
	blob_writer_free(w); /* never committed: nothing stays */
	assert_int_equal(count_files(f->dir), 0);
}

static int count_each(void *ctx, const struct blob_info *info)
{
	(void)info;
	++*(int *)ctx;
	return 0;
}

static void test_each_and_remove(void **state)
{
	struct fixture *f = *state;
	struct blob_info a, b;
	struct errbuf e;
	int n = 0;
	bool missing;

	put(f->s, "hello world", &a);
	put(f->s, "other content", &b);
	assert_int_equal(blob_each(f->s, count_each, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(blob_remove(f->s, a.key, &e), 0);
	assert_int_equal(blob_remove(f->s, a.key, &e), 0); /* gone already: fine */
	assert_int_equal(blob_stat(f->s, a.key, &a, &missing, &e), -1);
	assert_true(missing);
}

static void test_store_location(void **state)
{
	struct errbuf e;

	(void)state;
	assert_null(blob_store_open("relative/dir", &e));
	assert_null(blob_store_open("", &e));
	blob_store_close(blob_store_open("file:/tmp/ringlog-never-created", &e));
	assert_int_equal(access("/tmp/ringlog-never-created", F_OK), -1); /* nothing until a put */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_is_content_addressed_and_stored_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_gives_size_bytes_and_a_descriptor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_never_name_a_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_and_discard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_and_remove, setup, teardown),
		cmocka_unit_test(test_store_location),
	};

	return cmocka_run_group_tests_name("blob", tests, NULL, NULL);
}
