/* Compiler attributes used across ringlog: one place, one spelling. */
#ifndef RINGLOG_COMPILER_H
#define RINGLOG_COMPILER_H

/* A fallible function whose result must be looked at. */
#define RL_MUST_CHECK __attribute__((warn_unused_result))
/* printf-style format checking: FMT is the format's argument index. */
#define RL_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define RL_NORETURN __attribute__((noreturn))
#define RL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
