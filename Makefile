# Berth — the two commands a newcomer needs, and a few more.
#   make demo   install what is needed on a fresh Debian machine, then run Berth on the sample
#   make test   install what is needed, then build and run the whole test suite
SHELL := /bin/bash
SWIFT ?= swift

.PHONY: setup demo test build bench docker-up images clean

setup:
	@scripts/setup.sh

build:
	$(SWIFT) build

demo: setup
	@scripts/demo.sh

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --no-parallel

bench: setup
	$(SWIFT) run -c release berth-bench all

clean:
	rm -rf .build
