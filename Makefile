# wgtools: wg and wg-quick in Go.
#
#   make            build bin/wg and bin/wg-quick (static, version-stamped)
#   make test       every test: unit, golden, system (as root, in network
#                   namespaces the tests create), a short fuzz run, VM tests
#   make fuzz       run each fuzz target for FUZZTIME (default 1m)
#   make bench      benchmarks, ours against the reference, side by side
#   make demo       a tunnel between two network namespaces (needs root)
#   make vmtest     kernel-path tests in a qemu VM with wireguard.ko
#   make install / uninstall   (PREFIX, DESTDIR, BINDIR, MANDIR, ...)

GO ?= go
PREFIX ?= /usr
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
MODULE := github.com/gowg/wgtools
LDFLAGS := -s -w -X $(MODULE)/internal/version.Version=$(VERSION)
GOFLAGS_BUILD := -trimpath -ldflags '$(LDFLAGS)'
export CGO_ENABLED := 0

FUZZTIME ?= 1m
FUZZ_SHORT ?= 5s

.PHONY: all build test unit fuzz fuzz-short bench demo vmtest clean

all: build

build:
	@mkdir -p bin
	$(GO) build $(GOFLAGS_BUILD) -o bin/wg ./cmd/wg
	$(GO) build $(GOFLAGS_BUILD) -o bin/wg-quick ./cmd/wg-quick

# The README's test command. Tests that need root, a reference tool or qemu
# skip with the reason printed where those are missing. The VM tests run
# last, on their own and verbose, so that their summary (kernel, module,
# N passed, M failed) is in the log.
test: build
	$(GO) vet ./...
	WGTOOLS_VMTEST=off $(GO) test -count=1 ./...
	$(MAKE) fuzz-short
	$(MAKE) vmtest

unit:
	WGTOOLS_VMTEST=off $(GO) test -count=1 ./...

# Kernel-path tests: boots a Debian kernel with wireguard.ko under qemu and
# runs them inside (see the README's "VM tests"; VMTEST_* variables apply).
VMTEST_GOTIMEOUT ?= 30m
vmtest:
	$(GO) test -count=1 -v -timeout $(VMTEST_GOTIMEOUT) -run '^TestVM' ./vmtest

# Every fuzz target, each for FUZZ_SHORT (part of `make test`) or FUZZTIME.
fuzz-short:
	@./scripts/fuzz-all.sh $(FUZZ_SHORT)

fuzz:
	@./scripts/fuzz-all.sh $(FUZZTIME)

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
