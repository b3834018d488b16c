# wgtools: wg and wg-quick in Go.
#
#   make            build bin/wg and bin/wg-quick (static, version-stamped)
#   make test       every test: unit, golden, system (as root, in network
#                   namespaces the tests create), a short fuzz run, VM tests;
#                   strict: a skip not on scripts/testrun/allowed-skips.txt
#                   fails it (STRICT=0: listed only)
#   make unit       the tests but the VM tests, skips listed, not failures
#   make fuzz       run each fuzz target for FUZZTIME (default 1m)
#   make bench      ours against the reference, side by side (root; see bench/)
#   make gobench    the Go benchmarks (parser, writers, formatters, plans)
#   make demo       a tunnel between two network namespaces (needs root)
#   make vmtest     kernel-path tests in a qemu VM with wireguard.ko
#   make install / uninstall   (PREFIX, DESTDIR, BINDIR, MANDIR, ...)
#   make deb, make rpm   packages that replace wireguard-tools (bin/wgtools.deb, .rpm)
#   make image      the scratch container image, no engine needed (bin/image, bin/wgtools-image.tar)

GO ?= go
PREFIX ?= /usr
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
MODULE := github.com/gowg/wgtools
LDFLAGS := -s -w -X $(MODULE)/internal/version.Version=$(VERSION)
GOFLAGS_BUILD := -trimpath -ldflags '$(LDFLAGS)'
export CGO_ENABLED := 0

# Per test binary; the system tests of one package take minutes, and more
# when the machine is shared.
GOTEST_TIMEOUT ?= 60m
FUZZTIME ?= 1m
FUZZ_SHORT ?= 5s

.PHONY: all build test unit fuzz fuzz-short bench gobench demo vmtest clean deb rpm image

all: build

build: bin/.version
	$(GO) build $(GOFLAGS_BUILD) -o bin/wg ./cmd/wg
	$(GO) build $(GOFLAGS_BUILD) -o bin/wg-quick ./cmd/wg-quick

# What install needs: the binaries, rebuilt only when a source or the
# version changed, so that `make && sudo make install` does not need Go in
# root's PATH (sudo's secure_path has no /usr/local/go/bin).
GO_SOURCES := $(shell find cmd internal -name '*.go' ! -name '*_test.go' 2>/dev/null) go.mod go.sum
bin/.version: FORCE
	@mkdir -p bin; echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
bin/wg bin/wg-quick &: $(GO_SOURCES) bin/.version
	$(GO) build $(GOFLAGS_BUILD) -o bin/wg ./cmd/wg
	$(GO) build $(GOFLAGS_BUILD) -o bin/wg-quick ./cmd/wg-quick
FORCE:

# The README's test command, strict: the tests run through scripts/testrun,
# which prints go test's usual output, then the tests run, passed, failed
# and skipped per package and every skip with its message, and fails the
# run on a skip that scripts/testrun/allowed-skips.txt does not list (a tool
# that failed to install must not turn its tests into green skips).
# STRICT=0 only lists them. The tools module's tests run the same way. The
# VM tests run last, on their own and verbose, so that their summary
# (kernel, module, N passed, M failed) is in the log; they are strict too.
# The last lines are the counts of all the passes together.
STRICT ?= 1
TESTRUN_FLAGS = $(if $(filter 1,$(STRICT)),-strict)
TESTRUN = GO=$(GO) bin/testrun $(TESTRUN_FLAGS)

test: build
	./scripts/fetch-debs.sh
	$(GO) vet ./...
	cd tools && $(GO) vet ./...
	$(GO) build -o bin/testrun ./scripts/testrun
	WGTOOLS_VMTEST=off $(TESTRUN) -save bin/test-unit.json -- -count=1 -timeout $(GOTEST_TIMEOUT) ./...
	cd tools && GO=$(GO) ../bin/testrun $(TESTRUN_FLAGS) -save ../bin/test-tools.json -- -count=1 -timeout $(GOTEST_TIMEOUT) ./...
	$(MAKE) fuzz-short
	$(MAKE) vmtest VMTEST_GOTEST='$(TESTRUN) -v -save bin/test-vm.json -- '
	$(TESTRUN) -from bin/test-unit.json -from bin/test-tools.json -from bin/test-vm.json

# Every test but the VM tests, not strict: skips are listed, not failures.
unit:
	@mkdir -p bin
	$(GO) build -o bin/testrun ./scripts/testrun
	WGTOOLS_VMTEST=off GO=$(GO) bin/testrun -- -count=1 -timeout $(GOTEST_TIMEOUT) ./...
	cd tools && GO=$(GO) ../bin/testrun -- -count=1 -timeout $(GOTEST_TIMEOUT) ./...

# Kernel-path tests: boots Debian kernels with wireguard.ko under qemu
# (Debian 12's 6.1 and its 6.12; VMTEST_KERNELS picks others) and runs them
# inside, one boot a kernel (docs/vmtest.md; VMTEST_* variables apply).
VMTEST_GOTIMEOUT ?= 200m
VMTEST_GOTEST ?= $(GO) test
vmtest:
	$(VMTEST_GOTEST) -count=1 -v -timeout $(VMTEST_GOTIMEOUT) -run '^TestVM' ./vmtest

# Every fuzz target, each for FUZZ_SHORT (part of `make test`) or FUZZTIME.
fuzz-short:
	@./scripts/fuzz-all.sh $(FUZZ_SHORT)

fuzz:
	@./scripts/fuzz-all.sh $(FUZZTIME)

# Ours against the reference, side by side, in network namespaces (root;
# BENCH_QUICK=1 for fewer sizes and runs, BENCH_ARGS for the driver's
# flags): see bench/run.sh. gobench runs the Go benchmarks.
bench: build
	./bench/run.sh

gobench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Two network namespaces, a tunnel between them by our wg-quick (embedded
# userspace device), ping and HTTP through it, down, cleanup. Needs root.
demo: build
	./scripts/demo.sh

clean:
	rm -rf bin

# ---- install / uninstall ---------------------------------------------------
# Variables named and defaulted as wireguard-tools' src/Makefile names them,
# so a packager's recipe for the reference works here unchanged:
#   PREFIX DESTDIR BINDIR SYSCONFDIR MANDIR BASHCOMPDIR SYSTEMDUNITDIR
#   WITH_WGQUICK WITH_BASHCOMPLETION WITH_SYSTEMDUNITS (yes, no, or empty
#   to decide as the reference does: completion when BASHCOMPDIR exists,
#   units when SYSTEMDUNITDIR exists; wg-quick is built, so it defaults yes)
# The systemd unit gets BINDIR's paths filled in.
PKG_CONFIG ?= pkg-config
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ifeq ($(origin SYSTEMDUNITDIR),undefined)
SYSTEMDUNITDIR := $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null || echo "$(PREFIX)/lib/systemd/system")
endif
WITH_WGQUICK ?= yes
WITH_BASHCOMPLETION ?=
WITH_SYSTEMDUNITS ?=
ifeq ($(WITH_BASHCOMPLETION),)
WITH_BASHCOMPLETION := $(if $(wildcard $(BASHCOMPDIR)),yes,no)
endif
ifeq ($(WITH_SYSTEMDUNITS),)
WITH_SYSTEMDUNITS := $(if $(wildcard $(SYSTEMDUNITDIR)),yes,no)
endif
DIST := dist

.PHONY: install uninstall

install: bin/wg bin/wg-quick
	@install -v -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man8"
	@install -v -m 0755 bin/wg "$(DESTDIR)$(BINDIR)/wg"
	@install -v -m 0644 $(DIST)/man/wg.8 "$(DESTDIR)$(MANDIR)/man8/wg.8"
	@[ "$(WITH_BASHCOMPLETION)" = yes ] || exit 0; \
	install -v -d "$(DESTDIR)$(BASHCOMPDIR)" && \
	install -v -m 0644 $(DIST)/completion/wg.bash-completion "$(DESTDIR)$(BASHCOMPDIR)/wg"
	@[ "$(WITH_WGQUICK)" = yes ] || exit 0; \
	install -v -m 0755 bin/wg-quick "$(DESTDIR)$(BINDIR)/wg-quick" && \
	install -v -m 0644 $(DIST)/man/wg-quick.8 "$(DESTDIR)$(MANDIR)/man8/wg-quick.8" && \
	install -v -m 0700 -d "$(DESTDIR)$(SYSCONFDIR)/wireguard"
	@[ "$(WITH_WGQUICK)" = yes ] && [ "$(WITH_BASHCOMPLETION)" = yes ] || exit 0; \
	install -v -m 0644 $(DIST)/completion/wg-quick.bash-completion "$(DESTDIR)$(BASHCOMPDIR)/wg-quick"
	@[ "$(WITH_WGQUICK)" = yes ] && [ "$(WITH_SYSTEMDUNITS)" = yes ] || exit 0; \
	install -v -d "$(DESTDIR)$(SYSTEMDUNITDIR)" && \
	install -v -m 0644 $(DIST)/systemd/wg-quick.target "$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick.target" && \
	sed 's|@BINDIR@|$(BINDIR)|g' $(DIST)/systemd/wg-quick@.service.in >"$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick@.service" && \
	chmod 0644 "$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick@.service" && \
	echo "'$(DIST)/systemd/wg-quick@.service.in' -> '$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick@.service'" && \
	install -v -m 0644 $(DIST)/systemd/wg-quick-reresolve@.timer "$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick-reresolve@.timer" && \
	sed 's|@BINDIR@|$(BINDIR)|g' $(DIST)/systemd/wg-quick-reresolve@.service.in >"$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick-reresolve@.service" && \
	chmod 0644 "$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick-reresolve@.service" && \
	echo "'$(DIST)/systemd/wg-quick-reresolve@.service.in' -> '$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick-reresolve@.service'"

# Removes every file install may have written, whatever the WITH_* switches.
# $(SYSCONFDIR)/wireguard goes only when empty (it holds users' configs).
# With DESTDIR set (a staging tree), directories left empty are removed
# too, up to DESTDIR itself; without it, system directories stay.
uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/wg" "$(DESTDIR)$(BINDIR)/wg-quick" \
		"$(DESTDIR)$(MANDIR)/man8/wg.8" "$(DESTDIR)$(MANDIR)/man8/wg-quick.8" \
		"$(DESTDIR)$(BASHCOMPDIR)/wg" "$(DESTDIR)$(BASHCOMPDIR)/wg-quick" \
		"$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick@.service" "$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick.target" \
		"$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick-reresolve@.service" "$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick-reresolve@.timer"
	@[ ! -d "$(DESTDIR)$(SYSCONFDIR)/wireguard" ] || rmdir --ignore-fail-on-non-empty "$(DESTDIR)$(SYSCONFDIR)/wireguard"
	@[ -n "$(DESTDIR)" ] && [ "$(DESTDIR)" != / ] || exit 0; \
	for d in "$(BINDIR)" "$(MANDIR)/man8" "$(BASHCOMPDIR)" "$(SYSTEMDUNITDIR)" "$(SYSCONFDIR)"; do \
		while [ -n "$$d" ] && [ "$$d" != / ] && [ "$$d" != . ]; do \
			[ ! -d "$(DESTDIR)$$d" ] || rmdir --ignore-fail-on-non-empty "$(DESTDIR)$$d"; \
			d=$$(dirname "$$d"); \
		done; \
	done

# ---- packages and container image -------------------------------------------
# Built by the tools module (tools/: nfpm and go-containerregistry as
# libraries), so that the wg binaries link neither. The .deb puts the units
# in SYSTEMDUNITDIR (the building machine's distribution's directory, as
# its own wireguard-tools package does: build on the release you install
# to); the .rpm in /usr/lib/systemd/system. Files carry the last commit's
# time, so that a package or image is the same when rebuilt.
PKG_MAINTAINER ?= wgtools <https://github.com/gowg/wgtools>
PKG_MTIME ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

deb: build
	cd tools && $(GO) run ./mkpkg -format deb -version '$(VERSION)' -root .. -bin ../bin \
		-unitdir '$(SYSTEMDUNITDIR)' -maintainer '$(PKG_MAINTAINER)' -mtime '$(PKG_MTIME)' -o ../bin/wgtools.deb
	@echo "bin/wgtools.deb: sudo apt install ./bin/wgtools.deb (replaces wireguard-tools)"

rpm: build
	cd tools && $(GO) run ./mkpkg -format rpm -version '$(VERSION)' -root .. -bin ../bin \
		-maintainer '$(PKG_MAINTAINER)' -mtime '$(PKG_MTIME)' -o ../bin/wgtools.rpm
	@echo "bin/wgtools.rpm: sudo dnf install ./bin/wgtools.rpm (replaces wireguard-tools)"

image: build
	cd tools && $(GO) run ./mkimage -bin ../bin -version '$(VERSION)' -mtime '$(PKG_MTIME)' \
		-layout ../bin/image -tar ../bin/wgtools-image.tar
	@echo "bin/image (OCI layout), bin/wgtools-image.tar (docker load < bin/wgtools-image.tar)"
