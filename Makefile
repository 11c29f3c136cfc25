# Berth — the two commands a newcomer needs, and a few more.
#   make demo   install what is needed on a fresh Debian machine, then run Berth on the sample
#   make test   install what is needed (also the browser for the web UI's tests), then build
#               and run the whole test suite: the Swift tests, then the browser tests
SHELL := /bin/bash
SWIFT ?= swift

.PHONY: setup demo test build bench bench-git docker-up images clean

setup:
	@scripts/setup.sh

build:
	$(SWIFT) build

demo: setup
	@scripts/demo.sh

# The Swarm tests bring up (and tear down) a 3-node Swarm themselves; the `down` after the
# run is the safety net for a test process that died before its own teardown ran. The
# browser tests (headless Chromium against a real `berth watch`) run after the Swift tests,
# whatever those did; the run fails if either failed.
test:
	@scripts/setup.sh --test
	$(SWIFT) build --build-tests
	$(SWIFT) test --no-parallel; status=$$?; scripts/swarm-cluster.sh down; \
	/usr/bin/python3 Tests/Browser/test_ui.py; browser=$$?; \
	if [ $$status -ne 0 ]; then exit $$status; fi; exit $$browser

# Benchmarks run the binaries as shipped: release, Swift runtime linked statically.
RELEASE := -c release --static-swift-stdlib

bench:
	@scripts/setup.sh --bench
	$(SWIFT) build $(RELEASE) --product berth
	$(SWIFT) build $(RELEASE) --product berth-bench
	.build/release/berth-bench all

bench-git:
	$(SWIFT) build $(RELEASE) --product berth
	$(SWIFT) build $(RELEASE) --product berth-bench
	.build/release/berth-bench git --runs 7

clean:
	rm -rf .build
