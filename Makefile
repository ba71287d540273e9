# make test: everything CI runs. It installs what the tests need when it is
# missing, then vets and runs every test with -race, Redis ones included.
GO ?= go
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: test deps check-fmt vet

test: deps check-fmt vet
	GATEHOUSE_REQUIRE_REDIS=1 $(GO) test -race -count=1 -timeout 20m ./...

# redis-server and redis-cli come from Debian's package; the tests start
# their own servers on free loopback ports and stop them afterwards.
deps:
	@if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then \
		echo "make: installing redis-server (Debian package) for the Redis tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server >/dev/null; \
	fi
	@redis-server --version

check-fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# make bench: gatehouse beside scs, gorilla/sessions, JWT and a hand-written
# floor (the separate module in bench/). It starts its own Redis servers,
# writes bench/results/raw.txt and a benchstat summary, and prints the ratios.
.PHONY: bench
bench: deps
	cd bench && $(GO) run ./cmd/runbench
