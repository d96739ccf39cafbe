# ringlog — one plain Makefile.
#   make            build everything          make test     the whole suite
#   make run        a private cluster, both daemons and a demo (installs what is missing)
#   make SAN=1 ...  AddressSanitizer + UndefinedBehaviorSanitizer build
#   make install PREFIX=/usr DESTDIR=/tmp/pkg

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
DATADIR   ?= $(PREFIX)/share/ringlog
SYSCONFDIR ?= /etc
SQLDIR    ?= $(DATADIR)/sql

CC        ?= cc
PKG_CONFIG ?= pkg-config
PKGS      := libmicrohttpd gnutls json-c libpq libcurl inih libcrypto libsystemd

VARIANT   := $(if $(filter 1,$(SAN)),san,default)
BUILD     := build/$(VARIANT)

WARN      := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wvla -Wwrite-strings -Werror
CFLAGS    ?= -O2 -g
ifeq ($(SAN),1)
CFLAGS    += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
endif
ALL_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude \
              $(shell $(PKG_CONFIG) --cflags $(PKGS)) -MMD -MP
LIBS      := $(shell $(PKG_CONFIG) --libs $(PKGS)) -lb64 -lpthread -lm

SCHEMA_VERSION := $(shell ls sql | sed -n 's/^0*\([0-9][0-9]*\)_.*\.sql$$/\1/p' | sort -n | tail -1)

LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBRINGLOG := $(BUILD)/libringlog.a

PROGRAMS  := ringlog ringlog-ingestd $(if $(wildcard fetcher/*.c),ringlog-fetcherd)
ringlog_SRC          := $(wildcard cli/*.c)
ringlog-ingestd_SRC  := $(wildcard ingest/*.c)
ringlog-fetcherd_SRC := $(wildcard fetcher/*.c)
BINS      := $(addprefix $(BUILD)/bin/,$(PROGRAMS))

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.SECONDARY:
.PHONY: all test unit integration run bench install uninstall clean format fuzz deps
all: $(BINS)

Q := $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The newest migration, known to every binary: the daemons refuse an older schema.
$(BUILD)/lib/db.o: ALL_CFLAGS += -DRINGLOG_SCHEMA_VERSION=$(SCHEMA_VERSION)
$(BUILD)/lib/db.o: $(wildcard sql/*.sql)
$(BUILD)/cli/migrate.o: ALL_CFLAGS += -DRINGLOG_SQLDIR='"$(SQLDIR)"'

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

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(LIBRINGLOG)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs cmocka) $(LIBS)

unit: $(UNIT_BINS)
	@tests/run-unit $(UNIT_BINS)

integration: all
	@RINGLOG_BUILD=$(BUILD) tests/integration/run

# The whole suite: unit tests, then integration tests against a throwaway
# PostgreSQL cluster and the real daemons over loopback.
test: all $(UNIT_BINS)
	@RINGLOG_BUILD=$(BUILD) tests/run-all $(UNIT_BINS)

deps:
	@scripts/deps.sh build test

run: deps all
	@RINGLOG_BUILD=$(BUILD) scripts/run-demo

bench: deps all
	@scripts/deps.sh bench
	@RINGLOG_BUILD=$(BUILD) bench/run

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SQLDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -m 644 sql/*.sql $(DESTDIR)$(SQLDIR)/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(PROGRAMS))
	rm -rf $(DESTDIR)$(DATADIR)

format:
	clang-format -i $(wildcard include/ringlog/*.h lib/*.c cli/*.c cli/*.h ingest/*.c ingest/*.h fetcher/*.c fetcher/*.h tests/unit/*.c)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
