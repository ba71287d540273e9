# make test: everything CI runs. It installs what the tests need when it is
# missing, then vets and runs every test with -race, Redis ones included.
GO ?= go
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: test deps check-fmt vet

test: deps check-fmt vet
	GATEHOUSE_REQUIRE_REDIS=1 GATEHOUSE_REQUIRE_BROWSER=1 $(GO) test -race -count=1 -timeout 20m ./...
	@# Timing means nothing under -race (bcrypt runs 20x slower), so the
	@# timing row of the security matrix has a race-free pass of its own.
	$(GO) test -count=1 -run '^TestRow06' ./internal/proof
	cd examples/chi && $(GO) test -race -count=1 ./...
	@# bench/ is a module of its own too; its benchmarks are make bench, but
	@# the code that reads their output and draws the charts has tests.
	cd bench && $(GO) test -race -count=1 ./internal/...

# redis-server and redis-cli come from Debian's package; the tests start
# their own servers on free loopback ports and stop them afterwards.
# chromium (Debian's package) runs the quickstart's browser test, headless.
deps:
	@if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then \
		echo "make: installing redis-server (Debian package) for the Redis tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server >/dev/null; \
	fi
	@redis-server --version
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then \
		echo "make: installing chromium (Debian package) for the browser test"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi
	@chromium --version 2>/dev/null || chromium-browser --version

check-fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# examples/chi is a module of its own (chi stays out of the library's
# go.mod), so ./... at the root does not reach it: test and vet name it.
vet:
	$(GO) vet ./...
	cd examples/chi && $(GO) vet ./...
	cd bench && $(GO) vet ./...

# make soak: the anonymous flood of docs/security.md (internal/proof
# TestAttack1AnonymousFlood) at full size: 1,000,000 requests from 1000
# client addresses, on memory, Redis and Redis Cluster, without -race.
# make test runs the same test at 6,000 requests. It logs the answers it
# counted, the store's entries and Redis's used_memory against the bound.
SOAK_FLOOD ?= 1000000
.PHONY: soak
soak: deps
	GATEHOUSE_FLOOD=$(SOAK_FLOOD) GATEHOUSE_REQUIRE_REDIS=1 $(GO) test -count=1 -timeout 60m -v -run '^TestAttack1AnonymousFlood$$' ./internal/proof

# make bench: gatehouse beside scs, gorilla/sessions, JWT and a hand-written
# floor (the separate module in bench/). It starts its own Redis servers,
# writes bench/results/raw.txt and a benchstat summary, and prints the ratios.
.PHONY: bench
bench: deps
	cd bench && $(GO) run ./cmd/runbench

# make fuzz: every fuzz target (func FuzzX in a *_test.go file) runs for
# FUZZTIME, one at a time; make test already replays their seed corpora.
# A crasher lands under <package>/testdata/fuzz/<FuzzName>/: fix the bug,
# then commit that file with the fix as a regression case (go test replays
# it from then on). Never commit one without the fix: make test would fail.
#
# Go before 1.27 can fail a clean run as FUZZTIME ends with a bare
# "context deadline exceeded" (go.dev/issue/75804): the coordinator wakes on
# its -fuzztime deadline before that deadline has reached the workers'
# context, and reports its own timeout as an error. No input is involved:
# none is written, and it has hit tokens/FuzzValidate, whose inputs take
# microseconds. A target that fails with only that, having written no
# input, runs once more; anything else, or that twice, fails make fuzz.
FUZZTIME ?= 60s
.PHONY: fuzz
fuzz:
	@set -e; log=$$(mktemp); trap 'rm -f "$$log" "$$log.rc"' EXIT; \
	for file in $$(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^\./bench/' | sort); do \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
			for try in 1 2; do \
				echo "make fuzz: $$name in $$(dirname $$file) for $(FUZZTIME)"; \
				{ rc=0; $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$(dirname $$file) 2>&1 || rc=$$?; echo $$rc >"$$log.rc"; } | tee "$$log"; \
				[ "$$(cat "$$log.rc")" != 0 ] || break; \
				if [ $$try = 1 ] && [ "$$(grep -c -e '^--- FAIL' -e '^    ' "$$log")" = 2 ] && \
					grep -qx -- "--- FAIL: $$name ([0-9.]*s)" "$$log" && grep -qx '    context deadline exceeded' "$$log" && ! grep -q 'Failing input written' "$$log"; then \
					echo "make fuzz: $$name failed with only Go's -fuzztime deadline race (go.dev/issue/75804), no input: once more"; \
					continue; \
				fi; \
				exit 1; \
			done; \
		done; \
	done

# make docs-check: every package has a doc comment, and every command in a
# ```sh block of README.md and docs/*.md is run or checked (internal/doccheck),
# the Redis steps included.
.PHONY: docs-check
docs-check: deps
	GATEHOUSE_REQUIRE_REDIS=1 $(GO) test -count=1 ./internal/doccheck
