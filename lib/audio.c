/* Store-time transcoding with libsndfile (see audio.h). The original is
 * read where it was put (the blob writer's staging file) through
 * libsndfile's virtual I/O; the new form is encoded into an unlinked temp
 * file (the MP3 and Ogg writers seek back to finish their headers) and then
 * put in the store like any blob, so memory stays small whatever the length. */
#include "ringlog/audio.h"

#include <errno.h>
#include <fcntl.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ringlog/mime.h"

#define FRAMES 4096
#define MAX_CHANNELS 8
#define COPY_CHUNK (64 * 1024)
/* Voice at telephone rates: libsndfile's compression level 0..1 picks the
 * bitrate (measured at 8 kHz mono: MP3 24 kbit/s at 0.7, MPEG 2.5 allowing
 * 8-64; Opus about 15 kbit/s at 0.96, its scale reaching 256). */
#define MP3_LEVEL 0.7
#define OPUS_LEVEL 0.96

enum kind {
	K_KEEP,   /* unknown bytes, or a format libsndfile does not read: as it came */
	K_SAFE,   /* every browser plays it */
	K_DECODE, /* libsndfile reads it; browsers do not all play it */
	K_RAW,    /* headerless telephone audio, told by a hint or frame pattern */
};

/* A source of bytes for libsndfile's virtual I/O. */
struct vsrc {
	ssize_t (*pread)(void *ctx, void *buf, size_t len, uint64_t off);
	void *ctx;
	uint64_t size, pos;
};

static sf_count_t v_len(void *p)
{
	return (sf_count_t)((struct vsrc *)p)->size;
}

static sf_count_t v_seek(sf_count_t off, int whence, void *p)
{
	struct vsrc *v = p;
	sf_count_t base = whence == SEEK_CUR ? (sf_count_t)v->pos : whence == SEEK_END ? (sf_count_t)v->size : 0;

	if (base + off < 0)
		return -1;
	v->pos = (uint64_t)(base + off);
	return (sf_count_t)v->pos;
}

static sf_count_t v_read(void *buf, sf_count_t n, void *p)
{
	struct vsrc *v = p;
	sf_count_t got = 0;

	while (got < n && v->pos < v->size) {
		ssize_t r = v->pread(v->ctx, (char *)buf + got, (size_t)(n - got), v->pos);

		if (r <= 0)
			break;
		got += r;
		v->pos += (uint64_t)r;
	}
	return got;
}

static sf_count_t v_write(const void *buf, sf_count_t n, void *p)
{
	(void)buf, (void)n, (void)p;
	return 0;
}

static sf_count_t v_tell(void *p)
{
	return (sf_count_t)((struct vsrc *)p)->pos;
}

static ssize_t writer_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	return blob_writer_pread(ctx, buf, len, off);
}

static ssize_t fd_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	do
		n = pread(*(int *)ctx, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	return n;
}

int audio_store_format_parse(const char *text, enum audio_store_format *out)
{
	static const char *const names[] = { "original", "mp3", "opus" };

	for (size_t i = 0; i < RL_ARRAY_LEN(names); i++)
		if (text && strcasecmp(text, names[i]) == 0) {
			*out = (enum audio_store_format)i;
			return 0;
		}
	return -1;
}

static bool ends_with(const char *s, size_t n, const char *tail)
{
	size_t t = strlen(tail);

	return n >= t && strncasecmp(s + n - t, tail, t) == 0;
}

/* The raw format one line of HINT names (SF_FORMAT_ULAW, _ALAW, _GSM610),
 * or 0. A URL's query is ignored. */
static int raw_hint_line(const char *hint, size_t len)
{
	static const struct {
		const char *tail;
		int format;
	} tails[] = {
		{ ".ulaw", SF_FORMAT_ULAW }, { ".ul", SF_FORMAT_ULAW },	  { ".mulaw", SF_FORMAT_ULAW },
		{ ".pcmu", SF_FORMAT_ULAW }, { "/pcmu", SF_FORMAT_ULAW }, { "/x-mulaw", SF_FORMAT_ULAW },
		{ "/ulaw", SF_FORMAT_ULAW }, { "/x-ulaw", SF_FORMAT_ULAW }, { ".alaw", SF_FORMAT_ALAW },
		{ ".al", SF_FORMAT_ALAW },   { ".pcma", SF_FORMAT_ALAW }, { "/pcma", SF_FORMAT_ALAW },
		{ "/x-alaw", SF_FORMAT_ALAW }, { "/alaw", SF_FORMAT_ALAW }, { ".gsm", SF_FORMAT_GSM610 },
		{ "/gsm", SF_FORMAT_GSM610 }, { "/x-gsm", SF_FORMAT_GSM610 }, { "/basic", SF_FORMAT_ULAW },
	};
	size_t n = strcspn(hint, "?#;\n");

	if (n > len)
		n = len;
	while (n && hint[n - 1] == ' ')
		n--;
	for (size_t i = 0; i < RL_ARRAY_LEN(tails); i++)
		if (ends_with(hint, n, tails[i].tail))
			return tails[i].format;
	return 0;
}

/* The first raw format a line of HINT names (lines: a type, a URL, ...). */
static int raw_hint(const char *hint)
{
	int f = 0;

	while (hint && *hint && !f) {
		size_t len = strcspn(hint, "\n");

		f = raw_hint_line(hint, len);
		hint += len + (hint[len] == '\n');
	}
	return f;
}

static const char *raw_mime(int raw)
{
	return raw == SF_FORMAT_ULAW ? "audio/pcmu" : raw == SF_FORMAT_ALAW ? "audio/pcma" : "audio/gsm";
}

const char *audio_raw_mime(const char *type, const char *url)
{
	int raw = type ? raw_hint_line(type, strlen(type)) : 0;

	if (!raw && url)
		raw = raw_hint_line(url, strlen(url));
	return raw ? raw_mime(raw) : NULL;
}

/* Raw GSM 06.10 without a hint: whole 33-byte frames, each opening with the
 * signature nibble 0xD (checked on the first 64 frames). */
static bool looks_like_raw_gsm(struct vsrc *v)
{
	unsigned char b;

	if (v->size < 33 || v->size % 33)
		return false;
	for (uint64_t off = 0; off < v->size && off < 64 * 33; off += 33)
		if (v->pread(v->ctx, &b, 1, off) != 1 || (b & 0xf0) != 0xd0)
			return false;
	return true;
}

/* The kind of audio of sniffed type MIME. */
static enum kind classify_mime(const char *mime)
{
	/* Ogg (Opus) plays in Chromium, Firefox and Safari 17+: kept as it came
	 * unless the operator asks for one format. */
	if (strcmp(mime, "audio/mpeg") == 0 || strcmp(mime, "audio/flac") == 0 ||
	    strcmp(mime, "audio/ogg") == 0)
		return K_SAFE;
	if (strcmp(mime, "audio/wav") == 0 || strcmp(mime, "audio/aiff") == 0 ||
	    strcmp(mime, "audio/basic") == 0)
		return K_DECODE; /* WAV of PCM is found safe once opened */
	return K_KEEP;	 /* MP4/AAC play everywhere; WebM, AMR: libsndfile cannot read them */
}

/* What the bytes in V are: the kind, the type (static), the raw format. */
static enum kind classify(struct vsrc *v, const char *hint, const char **mime, int *raw)
{
	unsigned char head[MIME_SNIFF_LEN];
	ssize_t n = v->pread(v->ctx, head, sizeof(head), 0);

	*raw = 0;
	*mime = n > 0 ? mime_sniff(head, (size_t)n) : NULL;
	if (!*mime) {
		*raw = raw_hint(hint);
		if (!*raw && looks_like_raw_gsm(v))
			*raw = SF_FORMAT_GSM610;
		*mime = *raw ? raw_mime(*raw) : MIME_UNKNOWN;
		return *raw ? K_RAW : K_KEEP;
	}
	return classify_mime(*mime);
}

static bool wants_transcode(enum kind kind, const char *mime, enum audio_store_format format,
			    enum audio_store_format *into);

bool audio_plays_as_is(const void *head, size_t len, const char *hint,
		       enum audio_store_format format)
{
	const unsigned char *h = head;
	const char *mime = mime_sniff(head, len);
	enum audio_store_format into;
	enum kind kind;

	if (!mime)
		return !raw_hint(hint);
	kind = classify_mime(mime);
	/* a WAV's format tag (after "RIFF" size "WAVE" "fmt " size): PCM,
	 * float, or extensible (PCM as far as players go) */
	if (kind == K_DECODE && strcmp(mime, "audio/wav") == 0 && len >= 22 &&
	    memcmp(h + 12, "fmt ", 4) == 0) {
		unsigned tag = (unsigned)h[20] | (unsigned)h[21] << 8;

		if (tag == 1 || tag == 3 || tag == 0xfffe)
			kind = K_SAFE;
	}
	return !wants_transcode(kind, mime, format, &into);
}

static bool is_plain_pcm(const SF_INFO *in)
{
	int sub = in->format & SF_FORMAT_SUBMASK;

	return sub == SF_FORMAT_PCM_U8 || sub == SF_FORMAT_PCM_16 || sub == SF_FORMAT_PCM_24 ||
	       sub == SF_FORMAT_PCM_32 || sub == SF_FORMAT_FLOAT;
}

static SNDFILE *open_input(struct vsrc *v, int raw, SF_INFO *in, struct errbuf *e)
{
	SF_VIRTUAL_IO io = { v_len, v_seek, v_read, v_write, v_tell };
	SNDFILE *sf;

	memset(in, 0, sizeof(*in));
	if (raw) {
		in->format = SF_FORMAT_RAW | raw;
		in->samplerate = 8000;
		in->channels = 1;
	}
	v->pos = 0;
	sf = sf_open_virtual(&io, SFM_READ, in, v);
	if (!sf) {
		err_set(e, "the audio cannot be decoded: %s", sf_strerror(NULL));
		return NULL;
	}
	if (in->channels < 1 || in->channels > MAX_CHANNELS || in->samplerate < 1000 ||
	    in->samplerate > 192000) {
		err_set(e, "the audio has %d channels at %d Hz", in->channels, in->samplerate);
		sf_close(sf);
		return NULL;
	}
	return sf;
}

/* The encoder of *FORMAT into FD; Opus takes 8, 12, 16, 24 and 48 kHz
 * only, so other rates become MP3 (*FORMAT says which). */
static SNDFILE *open_output(int fd, const SF_INFO *in, enum audio_store_format *format,
			    struct errbuf *e)
{
	SF_INFO out = { .samplerate = in->samplerate, .channels = in->channels };
	int mode = SF_BITRATE_MODE_CONSTANT;
	double level;
	SNDFILE *sf;

	out.format = SF_FORMAT_OGG | SF_FORMAT_OPUS;
	if (*format != AUDIO_STORE_OPUS || !sf_format_check(&out)) {
		*format = AUDIO_STORE_MP3;
		out.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
	}
	level = *format == AUDIO_STORE_OPUS ? OPUS_LEVEL : MP3_LEVEL;
	if (!sf_format_check(&out)) {
		err_set(e, "MP3 cannot hold %d channels at %d Hz", in->channels, in->samplerate);
		return NULL;
	}
	sf = sf_open_fd(fd, SFM_WRITE, &out, 0);
	if (!sf) {
		err_set(e, "cannot start the encoder: %s", sf_strerror(NULL));
		return NULL;
	}
	sf_command(sf, SFC_SET_COMPRESSION_LEVEL, &level, sizeof(level));
	if (*format == AUDIO_STORE_MP3)
		sf_command(sf, SFC_SET_BITRATE_MODE, &mode, sizeof(mode));
	return sf;
}

/* Decodes V (raw format RAW or 0) and encodes it as FORMAT into OUT_FD.
 * *CORRUPT tells an input that fails from an encoder that does. */
static int transcode(struct vsrc *v, int raw, int out_fd, enum audio_store_format *format,
		     bool *corrupt, struct errbuf *e)
{
	SNDFILE *in = NULL, *out = NULL;
	short *frames = NULL;
	SF_INFO info;
	int rc = -1;

	*corrupt = true;
	if (!(in = open_input(v, raw, &info, e)))
		goto out;
	*corrupt = false;
	if (!(out = open_output(out_fd, &info, format, e)))
		goto out;
	frames = malloc(sizeof(short) * FRAMES * (size_t)info.channels);
	if (!frames) {
		err_set(e, "out of memory");
		goto out;
	}
	for (;;) {
		sf_count_t n = sf_readf_short(in, frames, FRAMES);

		if (n <= 0)
			break;
		if (sf_writef_short(out, frames, n) != n) {
			err_set(e, "the encoder failed: %s", sf_strerror(out));
			goto out;
		}
	}
	if (sf_error(in)) {
		*corrupt = true;
		err_set(e, "the audio cannot be decoded: %s", sf_strerror(in));
		goto out;
	}
	rc = 0;
out:
	free(frames);
	if (out && sf_close(out) != 0 && rc == 0)
		rc = err_set(e, "the encoder failed to finish");
	if (in)
		sf_close(in);
	return rc;
}

static int temp_fd(struct errbuf *e)
{
	const char *dir = getenv("TMPDIR");
	int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return err_set(e, "cannot make a temporary file: %s", strerror(errno));
	return fd;
}

int audio_transcode_fd(int in_fd, int out_fd, const char *hint, enum audio_store_format format,
		       bool *corrupt, struct errbuf *e)
{
	off_t end = lseek(in_fd, 0, SEEK_END);
	struct vsrc v = { fd_pread, &in_fd, end < 0 ? 0 : (uint64_t)end, 0 };
	const char *mime;
	int raw;

	*corrupt = false;
	classify(&v, hint, &mime, &raw);
	if (format == AUDIO_STORE_ORIGINAL)
		format = AUDIO_STORE_MP3;
	return transcode(&v, raw, out_fd, &format, corrupt, e);
}

/* Puts the file FD (from its start) into S as a new blob; fills INFO. */
static int put_file(struct blob_store *s, int fd, uint64_t max_size, struct blob_info *info,
		    struct errbuf *e)
{
	struct blob_writer *w = blob_put_begin(s, max_size, e);
	char *chunk = NULL;
	uint64_t off = 0;
	int rc = -1;

	if (!w)
		return -1;
	chunk = malloc(COPY_CHUNK);
	if (!chunk) {
		err_set(e, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = pread(fd, chunk, COPY_CHUNK, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(e, "cannot read the transcoded audio: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (blob_write(w, chunk, (size_t)n, e) < 0)
			goto out;
		off += (uint64_t)n;
	}
	rc = blob_commit(w, info, e);
out:
	free(chunk);
	blob_writer_free(w);
	return rc;
}

/* Should KIND (in FORMAT, of type MIME) be transcoded, and into what? */
static bool wants_transcode(enum kind kind, const char *mime, enum audio_store_format format,
			    enum audio_store_format *into)
{
	*into = format == AUDIO_STORE_OPUS ? AUDIO_STORE_OPUS : AUDIO_STORE_MP3;
	if (kind == K_KEEP)
		return false;
	if (format == AUDIO_STORE_ORIGINAL)
		return kind != K_SAFE;
	if (format == AUDIO_STORE_MP3 && strcmp(mime, "audio/mpeg") == 0)
		return false;
	if (format == AUDIO_STORE_OPUS && strcmp(mime, "audio/ogg") == 0)
		return false;
	return true;
}

static int commit_original(struct blob_writer *w, struct audio_stored *out, struct errbuf *e)
{
	if (blob_commit(w, &out->info, e) < 0)
		return -1;
	out->mime = out->original_mime;
	return 0;
}

int audio_commit(struct blob_store *s, struct blob_writer *w, const char *hint,
		 enum audio_store_format format, uint64_t max_size, struct audio_stored *out,
		 struct errbuf *e)
{
	struct vsrc v = { writer_pread, w, blob_writer_size(w), 0 };
	enum audio_store_format into;
	struct errbuf why;
	SNDFILE *probe;
	SF_INFO info;
	enum kind kind;
	int raw, fd = -1, rc = -1;
	bool corrupt;

	memset(out, 0, sizeof(*out));
	out->original_size = v.size;
	if (blob_writer_key(w, out->original_key) < 0)
		return err_set(e, "cannot finish SHA-256");
	kind = classify(&v, hint, &out->original_mime, &raw);
	if (kind == K_DECODE && strcmp(out->original_mime, "audio/wav") == 0) {
		/* A WAV opens or is corrupt; one of plain PCM plays everywhere. */
		if (!(probe = open_input(&v, 0, &info, &why))) {
			out->corrupt = true;
			snprintf(out->reason, sizeof(out->reason), "%.180s", why.msg);
			return commit_original(w, out, e);
		}
		if (is_plain_pcm(&info))
			kind = K_SAFE;
		sf_close(probe);
	}
	if (!wants_transcode(kind, out->original_mime, format, &into))
		return commit_original(w, out, e);
	if ((fd = temp_fd(e)) < 0)
		return -1;
	if (transcode(&v, raw, fd, &into, &corrupt, &why) < 0) {
		close(fd);
		out->corrupt = corrupt;
		if (corrupt)
			snprintf(out->reason, sizeof(out->reason), "%.150s (%.40s)", why.msg, out->original_mime);
		/* An encoder that cannot take it (an odd rate): kept as it came. */
		return commit_original(w, out, e);
	}
	rc = put_file(s, fd, max_size, &out->info, e);
	close(fd);
	if (rc == 0) {
		out->transcoded = true;
		out->mime = into == AUDIO_STORE_OPUS ? "audio/ogg" : "audio/mpeg";
	}
	return rc;
}
