# SPDX-License-Identifier: GPL-2.0-or-later
# X-Pro top-level build.  `make help` lists the targets.
#
# Three builds of the same sources live side by side under build/:
#   build/       -O2, jemalloc allocator: binaries, benchmarks
#   build/asan/  AddressSanitizer + UndefinedBehaviorSanitizer, libc allocator
#   build/tsan/  ThreadSanitizer, libc allocator (concurrency tests)
# The sanitizer builds link alloc_libc.c instead of alloc_jemalloc.c: the
# sanitizers replace malloc themselves and cannot sit under jemalloc.

CC      ?= gcc
CLANG   ?= clang
B       := build
WARN    := -Wall -Wextra -Werror
CFLAGS_BASE := -std=gnu11 -g $(WARN) -Iinclude -Isrc -D_GNU_SOURCE -pthread
CFLAGS  ?= -O2
ALL_CFLAGS := $(CFLAGS_BASE) $(CFLAGS)
LIBS_RCU := -lurcu -lurcu-cds
LIBS    := $(LIBS_RCU) -pthread

SAN_ASAN := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_TSAN := -O1 -fsanitize=thread -fno-omit-frame-pointer

# --- sources -----------------------------------------------------------------
DP_SRCS    := $(filter-out src/dataplane/alloc_%.c,$(wildcard src/dataplane/*.c))
UNIT_MAINS := $(wildcard tests/unit/test_*.c)
UNIT_HELP  := $(filter-out $(UNIT_MAINS),$(wildcard tests/unit/*.c))
CONC_MAINS := $(wildcard tests/concurrency/test_*.c)
BENCH_MAINS:= $(wildcard tests/bench/bench_*.c)
REPLAY_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard src/control/replay/*.c))
PROXY_OBJS  := $(patsubst %.c,$(B)/%.o,$(wildcard src/control/proxy/*.c))
GEN_OBJS    := $(patsubst %.c,$(B)/%.o,$(wildcard tests/tools/gen/*.c))
SINK_OBJS   := $(patsubst %.c,$(B)/%.o,$(wildcard tests/tools/sink/*.c))
CTL_SRCS    := $(wildcard src/control/*.c)
SYNC_SRCS   := $(wildcard src/sync/*.c)
SYNCT_MAINS := $(wildcard tests/sync/test_*.c)
SYNCT_BINS  := $(SYNCT_MAINS:tests/sync/%.c=$(B)/tests/sync/%)
BPF_SRCS    := $(wildcard bpf/*.bpf.c)
BPF_OBJS    := $(BPF_SRCS:bpf/%.bpf.c=$(B)/bpf/%.bpf.o)
BPF_SKELS   := $(BPF_SRCS:bpf/%.bpf.c=$(B)/bpf/%.skel.h)
# The traffic generator's own XDP programs; xpro-gen looks for them in $(B)/gen/.
GEN_BPF_SRCS := $(wildcard tests/tools/gen/bpf/*.bpf.c)
GEN_BPF_OBJS := $(GEN_BPF_SRCS:tests/tools/gen/bpf/%.bpf.c=$(B)/gen/%.bpf.o)
BPFT_MAINS  := $(wildcard tests/bpf/test_*.c)
BPFT_BINS   := $(BPFT_MAINS:tests/bpf/%.c=$(B)/tests/bpf/%)
FUZZ_MAINS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(FUZZ_MAINS:tests/fuzz/%.c=$(B)/fuzz/%)
INTEG       := $(sort $(wildcard tests/integration/test_*.sh))
HDRS       := $(wildcard include/xpro/*.h src/*/*.h src/*/*/*.h tests/*/*.h tests/*/*/*.h)

DP_OBJS       := $(DP_SRCS:%.c=$(B)/%.o) $(B)/src/dataplane/alloc_jemalloc.o
DP_OBJS_ASAN  := $(DP_SRCS:%.c=$(B)/asan/%.o) $(B)/asan/src/dataplane/alloc_libc.o
DP_OBJS_TSAN  := $(DP_SRCS:%.c=$(B)/tsan/%.o) $(B)/tsan/src/dataplane/alloc_libc.o
CTL_OBJS      := $(CTL_SRCS:%.c=$(B)/%.o)
CTL_OBJS_ASAN := $(CTL_SRCS:%.c=$(B)/asan/%.o)
LIBS_XDP      := -lxdp -lbpf -lelf -lz
SYNC_OBJS     := $(SYNC_SRCS:%.c=$(B)/%.o)

UNIT_BINS      := $(UNIT_MAINS:tests/unit/%.c=$(B)/tests/%)
UNIT_BINS_ASAN := $(UNIT_MAINS:tests/unit/%.c=$(B)/asan/tests/%)
CONC_BINS_TSAN := $(CONC_MAINS:tests/concurrency/%.c=$(B)/tsan/tests/%)
BENCH_BINS     := $(BENCH_MAINS:tests/bench/%.c=$(B)/bench/%)
TOOLS          := $(B)/xpro-replay $(if $(PROXY_OBJS),$(B)/xpro-proxy) \
		  $(if $(GEN_OBJS),$(B)/xpro-gen) $(if $(SINK_OBJS),$(B)/xpro-sink)

.PHONY: all deps test unit unit-asan conc-tsan bpf-test sync-test fuzz integration format \
	format-check \
	bench demo help clean config-doc metrics-doc man install uninstall deb
.DEFAULT_GOAL := all
# Keep objects that pattern rules build on the way (make would delete them).
.SECONDARY:

# all: the one rule is below the sections that define its parts (after xproctl).

# The tiers of `make test`, in order; `make help` prints them from here.
TIERS := unit unit-asan conc-tsan bpf-test sync-test fuzz integration format-check eval-quick
tier_unit         := cmocka unit tests, the reference-model tests, the modem library's host tests
tier_unit-asan    := the same under AddressSanitizer + UndefinedBehaviorSanitizer
tier_conc-tsan    := concurrency tests of the engine and device table under ThreadSanitizer
tier_bpf-test     := the XDP program on BPF_PROG_RUN fixtures
tier_sync-test    := the sync layer against real redis-server processes
tier_fuzz         := libFuzzer targets over their seed corpora (short runs)
tier_integration  := namespace tests: real proxies, XDP, AF_XDP, Redis, modems, TCP
tier_format-check := fail on drift from .clang-format
tier_eval-quick   := make eval's quick variant, its outputs checked

help:
	@echo "make            build the tools, tests and benchmarks (build/)"
	@echo "make deps       install every Debian package we need (idempotent, as root)"
	@echo "make test       deps, build, then every tier below; the last line totals them"
	@$(foreach t,$(TIERS),printf '  make %-14s %s\n' "$(t)" "$(tier_$(t))";)
	@echo "make bench      run the benchmarks; prints BENCH key=value lines"
	@echo "make demo       run a proxy on a namespace testbed under attack; print who got what"
	@echo "make format     apply .clang-format"
	@echo "make config-doc rewrite docs/config.md from xpro-proxy's key table"
	@echo "make metrics-doc  rewrite docs/metrics.md's field list from the counter table"
	@echo "make docker-testbed  three proxies, devices, victim in docker compose; attack"
	@echo "                with sync on and off; print the outcome (make docker-image: images;"
	@echo "                XDK_STORE=cluster: synced through a three-master Redis Cluster)"
	@echo "make eval       measure the paper's claims on the testbed; regenerate docs/evaluation.md"
	@echo "                and docs/eval/*.png (10-15 min; QUICK=1: a short run into build/eval-quick/)"
	@echo "make man        the manual pages, printed by the binaries, into $(B)/man/"
	@echo "make install    binaries, man pages, systemd units, example configs (PREFIX=$(PREFIX),"
	@echo "                DESTDIR); make uninstall removes them"
	@echo "make deb        a Debian package of the same files: $(B)/deb/xpro_<version>_<arch>.deb"
	@echo "make clean      remove build/"

deps:
	@scripts/deps.sh

# --- compile rules -------------------------------------------------------------
# V=1 shows the full commands.
Q := $(if $(V),,@)
# Header dependencies are the compiler's (-MMD -MP: a .d beside each object).
DEPFLAGS := -MMD -MP
$(B)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(B)/asan/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CC asan $@")
	$(Q)$(CC) $(CFLAGS_BASE) $(SAN_ASAN) $(DEPFLAGS) -c $< -o $@
$(B)/tsan/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CC tsan $@")
	$(Q)$(CC) $(CFLAGS_BASE) $(SAN_TSAN) $(DEPFLAGS) -c $< -o $@
-include $(shell find $(B) -name '*.d' 2>/dev/null)

$(B)/libxpro-dp.a: $(DP_OBJS)
	ar rcs $@ $^
$(B)/libxpro-ctl.a: $(CTL_OBJS)
	ar rcs $@ $^
$(B)/asan/libxpro-ctl.a: $(CTL_OBJS_ASAN)
	ar rcs $@ $^
$(B)/libxpro-sync.a: $(SYNC_OBJS)
	ar rcs $@ $^
$(B)/asan/libxpro-dp.a: $(DP_OBJS_ASAN)
	ar rcs $@ $^
$(B)/tsan/libxpro-dp.a: $(DP_OBJS_TSAN)
	ar rcs $@ $^

# --- BPF: object and skeleton --------------------------------------------------
$(B)/bpf/%.bpf.o: bpf/%.bpf.c
	@mkdir -p $(@D)
	$(CLANG) -target bpf -O2 -g -Wall -Werror -Iinclude -I/usr/include/$(shell gcc -dumpmachine) \
		$(DEPFLAGS) -c $< -o $@
$(B)/gen/%.bpf.o: tests/tools/gen/bpf/%.bpf.c
	@mkdir -p $(@D)
	$(CLANG) -target bpf -O2 -g -Wall -Werror -Iinclude -I/usr/include/$(shell gcc -dumpmachine) \
		$(DEPFLAGS) -c $< -o $@
$(B)/bpf/%.skel.h: $(B)/bpf/%.bpf.o
	bpftool gen skeleton $< > $@

# --- tools ---------------------------------------------------------------------
$(B)/xpro-replay: $(REPLAY_OBJS) $(B)/libxpro-dp.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LIBS) -ljemalloc
# Explicit lists: a pattern rule without a recipe would cancel, not add.
$(PROXY_OBJS): $(BPF_SKELS)
$(PROXY_OBJS): ALL_CFLAGS += -I$(B)/bpf
$(B)/xpro-proxy: $(PROXY_OBJS) $(B)/libxpro-sync.a $(B)/libxpro-ctl.a $(B)/libxpro-dp.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ -lhiredis $(LIBS_XDP) $(LIBS) -ljemalloc
$(GEN_OBJS): $(BPF_SKELS)
$(GEN_OBJS): ALL_CFLAGS += -I$(B)/bpf
$(B)/xpro-gen: $(GEN_OBJS) $(B)/libxpro-ctl.a $(B)/libxpro-dp.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LIBS_XDP) $(LIBS) -ljemalloc
$(B)/xpro-sink: $(SINK_OBJS)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LIBS)

# --- tests ---------------------------------------------------------------------
$(B)/tests/bpf/%: $(B)/tests/bpf/%.o $(B)/libxpro-ctl.a $(B)/libxpro-dp.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ -lcmocka $(LIBS_XDP) $(LIBS) -ljemalloc
$(B)/tests/bpf/%.o: tests/bpf/%.c $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -I$(B)/bpf -c $< -o $@
$(B)/tests/%: $(B)/tests/unit/%.o $(UNIT_HELP:%.c=$(B)/%.o) $(B)/libxpro-ctl.a $(B)/libxpro-dp.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ -lcmocka $(LIBS) -ljemalloc -lm
$(B)/asan/tests/%: $(B)/asan/tests/unit/%.o $(UNIT_HELP:%.c=$(B)/asan/%.o) $(B)/asan/libxpro-ctl.a $(B)/asan/libxpro-dp.a
	$(CC) $(CFLAGS_BASE) $(SAN_ASAN) $^ -o $@ -lcmocka $(LIBS) -lm
$(B)/tsan/tests/%: $(B)/tsan/tests/concurrency/%.o $(B)/tsan/libxpro-dp.a
	$(CC) $(CFLAGS_BASE) $(SAN_TSAN) $^ -o $@ -lcmocka $(LIBS) -lm

unit: $(UNIT_BINS)
	@scripts/run-tests.sh "unit" $^
unit-asan: $(UNIT_BINS_ASAN)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		scripts/run-tests.sh "unit-asan" $^
# suppress_equal_*=0: with them on, every suppressed report (tsan.supp: frees on liburcu's
# call_rcu thread) scans all earlier ones; a reload's free of a large block then took minutes
# (2 runs of 12 of test_devtab_mt past 60 s, against 2 s).  Suppressions still match.
conc-tsan: $(CONC_BINS_TSAN)
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppress_equal_addresses=0 suppress_equal_stacks=0 suppressions=$(CURDIR)/tests/concurrency/tsan.supp" \
		scripts/run-tests.sh "concurrency-tsan" $^

bpf-test: $(BPFT_BINS)
	@scripts/run-tests.sh "bpf" $^

# Sync tests start and stop their own redis-server processes.
$(B)/tests/sync/%: $(B)/tests/sync/%.o $(B)/libxpro-sync.a $(B)/libxpro-ctl.a $(B)/libxpro-dp.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ -lcmocka -lhiredis $(LIBS_XDP) $(LIBS) -ljemalloc -lm
sync-test: $(SYNCT_BINS)
	@scripts/run-tests.sh "sync" $^

# libFuzzer targets: each runs for FUZZ_SECONDS on its checked-in corpus.
FUZZ_SECONDS ?= 20
$(B)/fuzz/%: tests/fuzz/%.c $(DP_SRCS) $(CTL_SRCS) src/dataplane/alloc_libc.c $(HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(CFLAGS_BASE) -O1 -fsanitize=fuzzer,address,undefined $< $(DP_SRCS) $(CTL_SRCS) \
		src/dataplane/alloc_libc.c -o $@ $(LIBS_XDP) $(LIBS)
fuzz: $(FUZZ_BINS)
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $^

# xpro-proxy's keys (opts.c, opts_doc.c, config.c, and man.c for its pages): linked alone by test_opts and
# fuzz_config, without the rest of the proxy.  docs/config.md is printed from
# the same table (make config-doc); test_opts fails when the two differ.
PXCFG_SRCS := src/control/proxy/opts.c src/control/proxy/opts_doc.c src/control/proxy/config.c \
	src/control/man.c
$(B)/tests/test_opts: $(B)/tests/unit/test_opts.o $(PXCFG_SRCS:%.c=$(B)/%.o) $(B)/libxpro-dp.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ -lcmocka $(LIBS) -ljemalloc -lm
$(B)/asan/tests/test_opts: $(B)/asan/tests/unit/test_opts.o $(PXCFG_SRCS:%.c=$(B)/asan/%.o) \
		$(B)/asan/libxpro-dp.a
	$(CC) $(CFLAGS_BASE) $(SAN_ASAN) $^ -o $@ -lcmocka $(LIBS) -lm
$(B)/fuzz/fuzz_config: tests/fuzz/fuzz_config.c $(PXCFG_SRCS) $(DP_SRCS) src/dataplane/alloc_libc.c \
		$(HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(CFLAGS_BASE) -O1 -fsanitize=fuzzer,address,undefined $< $(PXCFG_SRCS) \
		$(DP_SRCS) src/dataplane/alloc_libc.c -o $@ $(LIBS_XDP) $(LIBS)
config-doc: $(B)/xpro-proxy
	$(B)/xpro-proxy --help-config-md >docs/config.md

# The counter table (counters_table.c, counters.c) alone, with xproctl's JSON reader to read back what it
# prints; docs/metrics.md's field list is printed from the same table (make metrics-doc).
CTRT_OBJS := src/control/proxy/counters.o src/control/proxy/counters_table.o \
	src/control/xproctl/fmt.o
$(B)/tests/test_counters: $(B)/tests/unit/test_counters.o $(CTRT_OBJS:%=$(B)/%) $(B)/libxpro-dp.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ -lcmocka $(LIBS) -ljemalloc -lm
$(B)/asan/tests/test_counters: $(B)/asan/tests/unit/test_counters.o $(CTRT_OBJS:%=$(B)/asan/%) \
		$(B)/asan/libxpro-dp.a
	$(CC) $(CFLAGS_BASE) $(SAN_ASAN) $^ -o $@ -lcmocka $(LIBS) -lm
metrics-doc: $(B)/tests/test_counters
	$(B)/tests/test_counters --update-doc

integration: all
	@scripts/run-tests.sh "integration" $(INTEG)

# Each tier appends "name passed failed" to $(SUMMARY); the last line is the total.
SUMMARY := $(CURDIR)/$(B)/test-summary
test: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(B) && rm -f $(SUMMARY)
	@XPRO_TEST_SUMMARY=$(SUMMARY) $(MAKE) --no-print-directory $(TIERS)
	@awk '{p += $$2; f += $$3} END {printf "test: %d passed, %d failed\n", p, f}' $(SUMMARY)

# --- modem-fw host tests: the library with fakes, linked beside the proxy's ---
MFW_SRCS   := $(wildcard modem-fw/src/*.c)
MFW_HDRS   := $(wildcard modem-fw/include/*.h modem-fw/src/*.h)
MFWT_MAINS := $(wildcard tests/modem/test_*.c)
MFWT_SRCS  := $(MFW_SRCS) $(filter-out $(MFWT_MAINS),$(wildcard tests/modem/*.c))
MFWT_BINS      := $(MFWT_MAINS:tests/modem/%.c=$(B)/tests/modem/%)
MFWT_BINS_ASAN := $(MFWT_MAINS:tests/modem/%.c=$(B)/asan/tests/modem/%)
MFWT_O      := $(addprefix $(B)/,$(MFWT_SRCS:.c=.o) $(MFWT_MAINS:.c=.o))
MFWT_O_ASAN := $(addprefix $(B)/asan/,$(MFWT_SRCS:.c=.o) $(MFWT_MAINS:.c=.o))
$(MFWT_O) $(MFWT_O_ASAN): $(MFW_HDRS)
$(MFWT_O): ALL_CFLAGS += -Imodem-fw/include
$(MFWT_O_ASAN): CFLAGS_BASE += -Imodem-fw/include
$(B)/tests/modem/%: $(B)/tests/modem/%.o $(addprefix $(B)/,$(MFWT_SRCS:.c=.o)) $(B)/libxpro-dp.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ -lcmocka -lsodium $(LIBS) -ljemalloc
$(B)/asan/tests/modem/%: $(B)/asan/tests/modem/%.o $(addprefix $(B)/asan/,$(MFWT_SRCS:.c=.o)) \
		$(B)/asan/libxpro-dp.a
	$(CC) $(CFLAGS_BASE) $(SAN_ASAN) $^ -o $@ -lcmocka -lsodium $(LIBS)
unit: $(MFWT_BINS) tests/modem/test_cross.sh
unit-asan: $(MFWT_BINS_ASAN)

# --- benchmarks ----------------------------------------------------------------
$(B)/bench/%: $(B)/tests/bench/%.o $(B)/libxpro-dp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LIBS) -ljemalloc -lm

# The sync benchmark starts and stops its own redis-server.
$(B)/bench/bench_sync: $(B)/tests/bench/bench_sync.o $(B)/libxpro-sync.a $(B)/libxpro-dp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $^ -o $@ -lhiredis $(LIBS) -ljemalloc -lm
# The destination round's benchmark: its own redis-server, then Redis Clusters of 1 and 2.
$(B)/bench/bench_round: $(B)/tests/bench/bench_round.o $(B)/libxpro-sync.a $(B)/libxpro-dp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $^ -o $@ -lhiredis $(LIBS) -ljemalloc -lm

# In-memory benchmarks first, then the proxy on the veth testbed (root).  bench_round right
# after bench_sync: the destination round's numbers beside the pair protocol's.
BENCH_ORDER := $(filter-out $(B)/bench/bench_sync $(B)/bench/bench_round,$(BENCH_BINS)) \
	$(B)/bench/bench_sync $(B)/bench/bench_round
bench: all
	@for b in $(BENCH_ORDER); do echo "== $$b"; $$b || echo "benchmark $$b exited $$?"; done
	@echo "== tests/bench/bench_proxy.sh"; tests/bench/bench_proxy.sh || echo "bench_proxy exited $$?"
	@echo "== tests/bench/bench_sync_attack.sh"; tests/bench/bench_sync_attack.sh

# --- demo ----------------------------------------------------------------------
demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

# --- formatting ----------------------------------------------------------------
FMT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null) $(shell git ls-files -o --exclude-standard '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FMT_FILES)
format-check:
	@scripts/format-check.sh $(FMT_FILES)

clean:
	rm -rf $(B)

# --- xpro-modem: the Linux port of modem-fw over TUN ---------------------
XM_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard modem-fw/linux/*.c) $(MFW_SRCS))
$(XM_OBJS): ALL_CFLAGS += -Imodem-fw/include
$(XM_OBJS): $(MFW_HDRS) $(wildcard modem-fw/linux/*.h)
# The protocol core is header-only; of the proxy's code it needs the provisioning parser
# and the log sink, both libc only.
$(B)/xpro-modem: $(XM_OBJS) $(B)/src/control/provision.o $(B)/src/control/log.o \
		$(B)/src/control/man.o
	$(CC) $(ALL_CFLAGS) $^ -o $@ -lsodium

# --- xproctl: the control tool; fmt.c also linked by its unit test -------
XPROCTL_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard src/control/xproctl/*.c))
$(B)/xproctl: $(XPROCTL_OBJS) $(B)/src/control/man.o
	$(CC) $(ALL_CFLAGS) $^ -o $@
$(B)/tests/test_xproctl_fmt: $(B)/src/control/xproctl/fmt.o
$(B)/asan/tests/test_xproctl_fmt: $(B)/asan/src/control/xproctl/fmt.o

# --- all: everything the tiers, the demo and the benchmarks run -------------------------
all: $(BPF_OBJS) $(GEN_BPF_OBJS) $(TOOLS) $(B)/xpro-modem $(B)/xproctl $(UNIT_BINS) \
	$(MFWT_BINS) $(BENCH_BINS) $(BPFT_BINS) $(SYNCT_BINS)

# --- docker testbed (docker/README.md): images from debootstrap, no registry -----
.PHONY: docker-image docker-testbed
docker-image: all
	@docker/image.sh
docker-testbed: all
	@docker/testbed.sh

# --- evaluation: make eval [QUICK=1]; the quick run is also a tier of make test --
.PHONY: eval eval-quick
eval: all
	@scripts/eval/run.sh $(if $(filter 1,$(QUICK)),--quick)
eval-quick: all
	@scripts/run-tests.sh "eval-quick" scripts/eval/test_quick.sh

# --- install: binaries, manual pages, units, examples (docs/deploy.md) -----------------
# The manual pages are printed by the binaries (xpro-proxy's from its key table), so they
# cannot drift from the options; make man writes them for a look.
VERSION ?= $(shell sed -n 's/^\#define XPRO_VERSION "\(.*\)"/\1/p' include/xpro/version.h)
PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR := $(PREFIX)/sbin
MANDIR  := $(PREFIX)/share/man
DOCDIR  := $(PREFIX)/share/doc/xpro
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
INSTALL_BINS := xpro-proxy xproctl xpro-modem xpro-replay
MAN_PAGES    := xpro-proxy.8 xpro-proxy.conf.5 xproctl.8 xpro-modem.8
UNITS        := xpro-proxy@.service xpro-modem@.service
DOCS         := README.md docs/protocol.md docs/sync.md docs/config.md docs/metrics.md docs/deploy.md
MONITORING   := xpro-alerts.yml xpro-alerts.test.yml xpro-dashboard.json

$(B)/man/xpro-proxy.8: $(B)/xpro-proxy
	@mkdir -p $(@D) && $< --help-man 8 >$@
$(B)/man/xpro-proxy.conf.5: $(B)/xpro-proxy
	@mkdir -p $(@D) && $< --help-man 5 >$@
$(B)/man/xproctl.8: $(B)/xproctl
	@mkdir -p $(@D) && $< --help-man >$@
$(B)/man/xpro-modem.8: $(B)/xpro-modem
	@mkdir -p $(@D) && $< --help-man >$@
$(B)/examples/proxy.conf: $(B)/xpro-proxy
	@mkdir -p $(@D) && $< --help-config-example >$@
man: $(MAN_PAGES:%=$(B)/man/%)

install: $(INSTALL_BINS:%=$(B)/%) man $(B)/examples/proxy.conf
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(INSTALL_BINS:%=$(B)/%) $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(filter %.8,$(MAN_PAGES:%=$(B)/man/%)) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(filter %.5,$(MAN_PAGES:%=$(B)/man/%)) $(DESTDIR)$(MANDIR)/man5/
	for u in $(UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' scripts/dist/$$u >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 $(B)/examples/proxy.conf scripts/dist/devices.conf.example \
		scripts/dist/modem.args.example $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(DOCDIR)/monitoring
	install -m 0644 $(MONITORING:%=scripts/dist/monitoring/%) $(DESTDIR)$(DOCDIR)/monitoring/

uninstall:
	rm -f $(INSTALL_BINS:%=$(DESTDIR)$(SBINDIR)/%) $(UNITS:%=$(DESTDIR)$(UNITDIR)/%) \
		$(DESTDIR)$(MANDIR)/man8/xpro-proxy.8 $(DESTDIR)$(MANDIR)/man8/xproctl.8 \
		$(DESTDIR)$(MANDIR)/man8/xpro-modem.8 $(DESTDIR)$(MANDIR)/man5/xpro-proxy.conf.5
	rm -rf $(DESTDIR)$(DOCDIR)

deb: $(INSTALL_BINS:%=$(B)/%) man $(B)/examples/proxy.conf
	@XPRO_VERSION=$(VERSION) scripts/dist/deb.sh $(B)/deb
