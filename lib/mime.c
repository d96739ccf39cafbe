#include "ringlog/mime.h"

#include <stdint.h>
#include <string.h>

static const struct {
	const char *mime, *ext;
} known[] = {
	{ "audio/wav", "wav" },	  { "audio/mpeg", "mp3" }, { "audio/aac", "aac" },
	{ "audio/ogg", "ogg" },	  { "audio/flac", "flac" }, { "audio/mp4", "m4a" },
	{ "audio/webm", "webm" }, { "audio/amr", "amr" },  { "audio/amr-wb", "awb" },
	{ "audio/aiff", "aiff" }, { "audio/basic", "au" },
};

static bool at(const unsigned char *d, size_t len, size_t off, const char *magic)
{
	size_t n = strlen(magic);

	return len >= off + n && memcmp(d + off, magic, n) == 0;
}

/* An MPEG audio frame header (ISO 11172-3 / 13818-3): sync, a version and
 * layer that exist, a bitrate and sample rate that are not reserved. */
static bool mpeg_frame(const unsigned char *d, size_t len)
{
	unsigned version, layer, bitrate, rate;

	if (len < 4 || d[0] != 0xff || (d[1] & 0xe0) != 0xe0)
		return false;
	version = (d[1] >> 3) & 3;
	layer = (d[1] >> 1) & 3;
	bitrate = d[2] >> 4;
	rate = (d[2] >> 2) & 3;
	return version != 1 && layer != 0 && bitrate != 15 && rate != 3;
}

/* An ADTS (AAC) header: 12 sync bits, layer 0, a known sampling index. */
static bool adts_frame(const unsigned char *d, size_t len)
{
	return len >= 7 && d[0] == 0xff && (d[1] & 0xf6) == 0xf0 && ((d[2] >> 2) & 0xf) < 13;
}

/* ISO base media: a first box "ftyp" whose brand is an audio one or a
 * generic MP4 brand (a call recording is audio, whatever the brand). */
static bool mp4(const unsigned char *d, size_t len)
{
	static const char *const brands[] = { "M4A ", "M4B ", "mp41", "mp42", "isom", "iso2",
					      "dash", "3gp4", "3gp5", "3gp6", NULL };

	if (!at(d, len, 4, "ftyp") || len < 12)
		return false;
	for (const char *const *b = brands; *b; b++)
		if (memcmp(d + 8, *b, 4) == 0)
			return true;
	return false;
}

const char *mime_sniff(const void *data, size_t len)
{
	const unsigned char *d = data;

	if ((at(d, len, 0, "RIFF") || at(d, len, 0, "RF64")) && at(d, len, 8, "WAVE"))
		return "audio/wav";
	if (at(d, len, 0, "ID3") && len >= 10 && d[3] < 0xff && d[4] < 0xff)
		return "audio/mpeg";
	if (at(d, len, 0, "OggS") && len >= 6 && d[4] == 0)
		return "audio/ogg";
	if (at(d, len, 0, "fLaC"))
		return "audio/flac";
	if (at(d, len, 0, "#!AMR-WB\n"))
		return "audio/amr-wb";
	if (at(d, len, 0, "#!AMR\n"))
		return "audio/amr";
	if (at(d, len, 0, "FORM") && (at(d, len, 8, "AIFF") || at(d, len, 8, "AIFC")))
		return "audio/aiff";
	if (at(d, len, 0, ".snd"))
		return "audio/basic";
	if (len >= 4 && d[0] == 0x1a && d[1] == 0x45 && d[2] == 0xdf && d[3] == 0xa3)
		return "audio/webm";
	if (mp4(d, len))
		return "audio/mp4";
	if (adts_frame(d, len))
		return "audio/aac";
	if (mpeg_frame(d, len))
		return "audio/mpeg";
	return NULL;
}

const char *mime_extension(const char *mime)
{
	for (size_t i = 0; mime && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].mime, mime) == 0)
			return known[i].ext;
	return "bin";
}

bool mime_is_audio(const char *mime)
{
	return mime && strcmp(mime_extension(mime), "bin") != 0;
}
