# ringlog — one plain Makefile.
#   make            build everything          make test     the whole suite
#   make run        a private cluster, both daemons and a demo (installs what is missing)
#   make SAN=1 ...  AddressSanitizer + UndefinedBehaviorSanitizer build
#   make install PREFIX=/usr DESTDIR=/tmp/pkg   (as root without DESTDIR: also
#                   the ringlog user, its directories and a signing key)
#   make fuzz FUZZ_SECONDS=60   make chaos   make valgrind   make systemd-smoke

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
DATADIR   ?= $(PREFIX)/share/ringlog
DOCDIR    ?= $(PREFIX)/share/doc/ringlog
SYSCONFDIR ?= /etc
SQLDIR    ?= $(DATADIR)/sql
# Where Debian 12's systemd looks for packaged units (/lib/systemd/system for
# PREFIX=/usr); /usr/local/lib/systemd/system is searched too.
UNITDIR   ?= $(if $(filter /usr,$(PREFIX)),$(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system),$(PREFIX)/lib/systemd/system)
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d

CC        ?= cc
PKG_CONFIG ?= pkg-config
PKGS      := libmicrohttpd gnutls json-c libpq libcurl inih libcrypto libsystemd sndfile

VARIANT   := $(if $(filter 1,$(SAN)),san,default)
BUILD     := build/$(VARIANT)

WARN      := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wvla -Wwrite-strings -Werror
CFLAGS    ?= -O2 -g
ifeq ($(SAN),1)
CFLAGS    += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
endif
# pkg-config is asked when a flag is first used, not when this file is read:
# `make run` and `make test` install the packages first (scripts/deps.sh).
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS  = $(eval PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS)))$(PKG_LIBS)
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude \
              $(PKG_CFLAGS) -MMD -MP
LIBS      = $(PKG_LIBS) -lb64 -lpthread -lm

SCHEMA_VERSIONS := $(shell ls sql | sed -n 's/^0*\([0-9][0-9]*\)_.*\.sql$$/\1/p' | sort -n | paste -sd, -)

LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBRINGLOG := $(BUILD)/libringlog.a
# libphonenumber is C++ (and has no .pc in Debian): one shim, lib/*.cc,
# compiled with $(CXX); every program links the C++ runtime.
LIB_CXX_SRC := $(wildcard lib/*.cc)
LIB_OBJ   += $(LIB_CXX_SRC:%.cc=$(BUILD)/%.o)
LIBS      += -lphonenumber -lprotobuf -lstdc++
ALL_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror $(CFLAGS) -Iinclude -MMD -MP

PROGRAMS  := ringlog ringlog-ingestd $(if $(wildcard fetcher/*.c),ringlog-fetcherd)
ringlog_SRC          := $(wildcard cli/*.c)
ringlog-ingestd_SRC  := $(wildcard ingest/*.c)
ringlog-fetcherd_SRC := $(wildcard fetcher/*.c)
BINS      := $(addprefix $(BUILD)/bin/,$(PROGRAMS))
DAEMONS   := $(filter-out ringlog,$(PROGRAMS))
UNITS     := $(DAEMONS:%=$(BUILD)/systemd/%.service) $(BUILD)/systemd/ringlog-maintain.service
UNITS     += $(BUILD)/systemd/ringlog-reconcile.service
TIMERS    := $(BUILD)/systemd/ringlog-maintain.timer
TIMERS    += $(BUILD)/systemd/ringlog-reconcile.timer

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.SECONDARY:
.PHONY: fresh-check all test unit integration chaos valgrind systemd-smoke run bench install uninstall check-units clean format fuzz fuzz-build deps FORCE
all: $(BINS)

Q := $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CXX     $<")
	$(Q)$(CXX) $(ALL_CXXFLAGS) -c -o $@ $<

# The migrations, known to every binary: the daemons refuse a schema without them.
$(BUILD)/lib/db.o: ALL_CFLAGS += -DRINGLOG_SCHEMA_VERSIONS='"$(SCHEMA_VERSIONS)"'
$(BUILD)/lib/db.o: $(wildcard sql/*.sql)
# ringlog_build_info's version: the commit (git describe), when built from one.
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/lib/metrics_process.o: ALL_CFLAGS += -DRINGLOG_VERSION='"$(VERSION)"'
$(BUILD)/lib/paths.o: ALL_CFLAGS += -DRINGLOG_DATADIR='"$(DATADIR)"' -DRINGLOG_SYSCONFDIR='"$(SYSCONFDIR)"'
# ... rebuilt when DATADIR changes (`make` then `make install PREFIX=/usr`).
$(BUILD)/lib/paths.o: $(BUILD)/datadir
$(BUILD)/datadir: FORCE
	@mkdir -p $(dir $@)
	@echo '$(DATADIR) $(SYSCONFDIR)' | cmp -s - $@ 2>/dev/null || echo '$(DATADIR) $(SYSCONFDIR)' >$@
FORCE:

$(LIBRINGLOG): $(LIB_OBJ)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

define program_rule
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/%.o,$($(1)_SRC)) $(LIBRINGLOG)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LINK    $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

# The store-time transcoder on its own (bench/audio.sh).
$(BUILD)/bench/audio-transcode: $(BUILD)/bench/audio_transcode.o $(LIBRINGLOG)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(LIBRINGLOG)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs cmocka) $(LIBS)

# libFuzzer harnesses (clang): every tests/fuzz/fuzz_<name>.c is one, linked
# with the library built again with the fuzzer's instrumentation. `make fuzz`
# runs each for FUZZ_SECONDS from a corpus seeded with fixture files (see
# tests/fuzz/fuzz.h); crashes land in build/fuzz/crashes/. gcc -Werror is the
# warning gate; clang only warns here.
FUZZ_CC   ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build/fuzz
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(filter-out -Werror,$(WARN)) -g -O1 -fno-omit-frame-pointer \
	      $(FUZZ_SAN) -Iinclude $(shell $(PKG_CONFIG) --cflags $(PKGS)) -MMD -MP
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB  := $(FUZZ_BUILD)/libringlog.a

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
FUZZ_CXX  ?= clang++
$(FUZZ_BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCXX $<")
	$(Q)$(FUZZ_CXX) -std=c++17 -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -fno-sanitize=vptr -Iinclude -MMD -MP -fsanitize=fuzzer-no-link -c -o $@ $<
$(FUZZ_LIB): $(LIB_CXX_SRC:%.cc=$(FUZZ_BUILD)/%.o)
$(FUZZ_BUILD)/lib/db.o: FUZZ_CFLAGS += -DRINGLOG_SCHEMA_VERSIONS='"$(SCHEMA_VERSIONS)"'

$(FUZZ_LIB): $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run $(FUZZ_BINS)

unit: $(UNIT_BINS)
	@tests/run-unit $(UNIT_BINS)

integration: all
	@RINGLOG_BUILD=$(BUILD) tests/integration/run

# The whole suite: unit tests, then integration tests against a throwaway
# PostgreSQL cluster and the real daemons over loopback.
test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@RINGLOG_BUILD=$(BUILD) tests/run-all $(UNIT_BINS)

# Fault tests (loopback, bounded in time): kill -9 under load, PostgreSQL
# stopped and crashed under load, the spool's disk full, slowloris. Each
# prints its acknowledged-versus-stored figures.
chaos: all
	@RINGLOG_BUILD=$(BUILD) tests/integration/run $(notdir $(wildcard tests/integration/chaos_*.py))

# The installed units, hardening included, under a private systemd in its
# own namespaces (where systemd is not PID 1; says SKIP elsewhere).
systemd-smoke:
	@SAN=$(SAN) tests/systemd-smoke

# The unit tests under valgrind: any error or leak fails.
valgrind: $(UNIT_BINS)
	@RINGLOG_VALGRIND=1 tests/run-unit $(UNIT_BINS)

deps:
	@scripts/deps.sh build test

run: deps
	@$(MAKE) --no-print-directory all
	@RINGLOG_BUILD=$(BUILD) scripts/run-demo

# A fresh Debian 12 root (debootstrap) where a clone must pass `make run`,
# Ctrl-C and `make test` with nothing installed beforehand but git and make.
fresh-check:
	@scripts/fresh-check

# bench/phones.sh: phone_parse() per number, a program over the library.
$(BUILD)/bench/phone_bench: $(BUILD)/bench/phone_bench.o $(LIBRINGLOG)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
bench: $(BUILD)/bench/phone_bench
bench: deps all $(BUILD)/bench/audio-transcode
	@scripts/deps.sh bench
	@RINGLOG_BUILD=$(BUILD) bench/run

# The units name the installed binaries.
$(BUILD)/systemd/%.service: systemd/%.service
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' $< >$@
$(BUILD)/systemd/%.timer: systemd/%.timer
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@DOCDIR@|$(DOCDIR)|g' $< >$@
$(BUILD)/systemd/ringlog-maintain.service: systemd/ringlog-maintain.service
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' $< >$@
$(BUILD)/systemd/ringlog-reconcile.service: systemd/ringlog-reconcile.service
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' $< >$@

# Debian's places: the admin command in bin, the daemons in sbin, the schema
# and the call-log page in share/ringlog, units, sysusers.d and tmpfiles.d under lib, the README
# and the commented example config in share/doc/ringlog; the example also
# becomes /etc/ringlog/ringlog.conf unless that exists (it is never replaced).
install: all $(UNITS) $(TIMERS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SQLDIR) $(DESTDIR)$(DATADIR)/ui \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSCONFDIR)/ringlog
	install -m 755 $(BUILD)/bin/ringlog $(DESTDIR)$(BINDIR)/
	install -m 755 $(DAEMONS:%=$(BUILD)/bin/%) $(DESTDIR)$(SBINDIR)/
	install -m 644 sql/*.sql $(DESTDIR)$(SQLDIR)/
	install -d $(DESTDIR)$(SQLDIR)/functions
	install -m 644 sql/functions/*.sql $(DESTDIR)$(SQLDIR)/functions/
	install -m 644 ui/*.html ui/*.js ui/*.css $(DESTDIR)$(DATADIR)/ui/
	install -m 644 $(UNITS) $(DESTDIR)$(UNITDIR)/
	install -m 644 $(TIMERS) $(DESTDIR)$(UNITDIR)/
	install -m 644 systemd/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/ringlog.conf
	install -m 644 systemd/tmpfiles.conf $(DESTDIR)$(TMPFILESDIR)/ringlog.conf
	install -m 644 README.md $(wildcard docs/*.*) $(DESTDIR)$(DOCDIR)/
	install -m 644 etc/ringlog.conf $(DESTDIR)$(DOCDIR)/examples/
	test -e $(DESTDIR)$(SYSCONFDIR)/ringlog/ringlog.conf || \
		install -m 640 etc/ringlog.conf $(DESTDIR)$(SYSCONFDIR)/ringlog/ringlog.conf
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		SYSCONFDIR=$(SYSCONFDIR) SYSUSERSDIR=$(SYSUSERSDIR) TMPFILESDIR=$(TMPFILESDIR) \
			scripts/postinst.sh; \
	else \
		echo "installed; as root, scripts/postinst.sh makes the ringlog user, its directories and a signing key"; \
	fi

# Exposure of each unit as systemd rates it; fails above 2.0.
check-units: $(UNITS)
	@for u in $(UNITS); do \
		out=$$(systemd-analyze security --offline=true --threshold=20 $$u); rc=$$?; \
		echo "$$out" | tail -1; [ $$rc -eq 0 ] || exit 1; \
	done

# Leaves /etc/ringlog, /var/lib/ringlog and /var/spool/ringlog (data), as
# removing a Debian package does.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ringlog $(addprefix $(DESTDIR)$(SBINDIR)/,$(DAEMONS))
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(DAEMONS:%=%.service))
	rm -f $(DESTDIR)$(UNITDIR)/ringlog-maintain.service $(DESTDIR)$(UNITDIR)/ringlog-maintain.timer
	rm -f $(DESTDIR)$(UNITDIR)/ringlog-reconcile.service $(DESTDIR)$(UNITDIR)/ringlog-reconcile.timer
	rm -f $(DESTDIR)$(SYSUSERSDIR)/ringlog.conf $(DESTDIR)$(TMPFILESDIR)/ringlog.conf
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)

format:
	clang-format -i $(wildcard include/ringlog/*.h lib/*.c cli/*.c cli/*.h ingest/*.c ingest/*.h fetcher/*.c fetcher/*.h tests/unit/*.c tests/fuzz/*.[ch])

clean:
	rm -rf build

-include $(shell find build -name '*.d' -type f 2>/dev/null)
