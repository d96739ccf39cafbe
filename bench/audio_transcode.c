/* bench: one recording through audio_transcode_fd() (the code the daemons
 * run at store time), timed on one core, with the process's peak memory.
 *   audio-transcode IN OUT mp3|opus [HINT]
 * Prints one line of JSON: seconds of audio, CPU seconds, × real time,
 * peak RSS (KiB) and the bytes in and out. */
#include <fcntl.h>
#include <sndfile.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ringlog/audio.h"

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	enum audio_store_format fmt;
	struct rusage ru;
	struct stat in_st, out_st;
	struct errbuf e;
	SF_INFO info = { 0 };
	SNDFILE *sf;
	bool corrupt;
	double t0, cpu, secs;
	int in, out;

	if (argc < 4 || audio_store_format_parse(argv[3], &fmt) < 0 || fmt == AUDIO_STORE_ORIGINAL) {
		fprintf(stderr, "usage: audio-transcode IN OUT mp3|opus [HINT]\n");
		return 2;
	}
	in = open(argv[1], O_RDONLY);
	out = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0) {
		perror("open");
		return 1;
	}
	t0 = cpu_seconds();
	if (audio_transcode_fd(in, out, argc > 4 ? argv[4] : NULL, fmt, &corrupt, &e) < 0) {
		fprintf(stderr, "audio-transcode: %s\n", e.msg);
		return 1;
	}
	cpu = cpu_seconds() - t0;
	getrusage(RUSAGE_SELF, &ru);
	fstat(in, &in_st);
	fstat(out, &out_st);
	close(in);
	close(out);
	sf = sf_open(argv[2], SFM_READ, &info);
	secs = sf && info.samplerate ? (double)info.frames / info.samplerate : 0;
	if (sf)
		sf_close(sf);
	printf("{\"audio_seconds\": %.1f, \"cpu_seconds\": %.3f, \"x_realtime\": %.1f, "
	       "\"peak_rss_kib\": %ld, \"bytes_in\": %lld, \"bytes_out\": %lld}\n",
	       secs, cpu, cpu > 0 ? secs / cpu : 0, ru.ru_maxrss, (long long)in_st.st_size,
	       (long long)out_st.st_size);
	return 0;
}
