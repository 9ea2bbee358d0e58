# modelarts-notifier. `make run` and `make test` work on a fresh machine with
# only Go, Node.js and make: they install what they need into .tools/
# (git-ignored): dynalite from npm, the Lambda Runtime Interface Emulator
# built from the version pinned in go.mod.

GO        ?= go
TOOLS     := $(CURDIR)/.tools
DYNALITE  := $(TOOLS)/node_modules/dynalite/cli.js
RIE       := $(TOOLS)/bin/aws-lambda-rie
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -buildid= -X github.com/modelarts-notifier/modelarts-notifier/functions/setup.Version=$(VERSION)
LAMBDA_BUILD := CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)'
# sam build sets ARTIFACTS_DIR; by hand the binaries go to bin/.
ARTIFACTS_DIR ?= $(CURDIR)/bin

export DYNALITE_CLI := $(DYNALITE)
export RIE_BIN      := $(RIE)

.PHONY: run test bench fuzz lint tools clean build build-PollerFunction build-ReportFunction run-rie

## run: one poll of the built-in simulated ModelArts; summaries on the terminal.
## (The demo is compiled in only with the build tag demo: production
## bootstraps hold neither it nor the fake ModelArts.)
run:
	$(GO) run -tags demo ./functions/poller -demo

## test: every test, with the real peers they talk to (dynalite, the Lambda RIE).
test: tools
	$(GO) vet ./...
	$(GO) test -race -shuffle=on -count=1 -timeout 30m ./...

## bench: the performance figures (README "Performance").
bench: tools
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

## fuzz: run each fuzz target for FUZZTIME (default 30s); crashers land in testdata/fuzz.
FUZZTIME ?= 30s
fuzz:
	@$(GO) list -f '{{.ImportPath}} {{.Dir}}' ./... | while read pkg dir; do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; done

## lint: go vet, gofmt, and cfn-lint (with the SAM translator, informational
## checks included) on template.yaml.
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is missing: pip install 'cfn-lint>=1.51' (it brings the SAM translator)"; exit 1; }
	cfn-lint --include-checks I -- template.yaml

## tools: dynalite (npm) and the Lambda Runtime Interface Emulator (pinned in go.mod).
tools: $(DYNALITE) $(RIE)

$(DYNALITE):
	mkdir -p $(TOOLS)
	[ -f $(TOOLS)/package.json ] || echo '{"private": true}' > $(TOOLS)/package.json
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error dynalite@4

$(RIE): go.mod go.sum
	mkdir -p $(TOOLS)/bin
	$(GO) build -o $(RIE) github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

## build: both Lambda bootstraps (linux/arm64) under bin/.
build:
	$(MAKE) build-PollerFunction ARTIFACTS_DIR=$(CURDIR)/bin/poller
	$(MAKE) build-ReportFunction ARTIFACTS_DIR=$(CURDIR)/bin/report

# What `sam build` calls (Metadata: BuildMethod: makefile).
build-PollerFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/poller

build-ReportFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/report

## run-rie: a function (RIE_FUNCTION=poller, the default, or report) built as
## a Lambda bootstrap with the demo, under the Lambda Runtime Interface
## Emulator on a free loopback port (or RIE_PORT), against the built-in
## simulated ModelArts. It prints the curl that invokes it; Ctrl-C stops it.
RIE_FUNCTION ?= poller
RIE_DEMO_DIR := $(CURDIR)/.modelarts-notifier/rie-$(RIE_FUNCTION)
# The demo's failed deployment (bert-ner), which a one-service report invoke names.
DEMO_SERVICE := a1b2c3d4-0002-4000-8000-000000000002
ifeq ($(filter run-rie,$(MAKECMDGOALS)),run-rie)
FREE_PORTS := $(shell node -e "const n=require('net');const a=n.createServer().listen(0,'127.0.0.1',()=>{const b=n.createServer().listen(0,'127.0.0.1',()=>{console.log(a.address().port,b.address().port);a.close();b.close()})})")
RIE_PORT ?= $(word 1,$(FREE_PORTS))
RIE_API_PORT ?= $(word 2,$(FREE_PORTS))
endif
run-rie: $(RIE)
	mkdir -p bin/host/$(RIE_FUNCTION)
	CGO_ENABLED=0 $(GO) build -tags lambda.norpc,demo -o bin/host/$(RIE_FUNCTION)/bootstrap ./functions/$(RIE_FUNCTION)
	rm -rf $(RIE_DEMO_DIR)
	@echo
	@echo "The demo under the emulator keeps its state in $(patsubst $(CURDIR)/%,%,$(RIE_DEMO_DIR)), apart from make run's"
	@echo "and fresh at each make run-rie: its first invoke reports the demo, a second nothing new."
	@echo "Invoke it from another terminal:"
	@if [ "$(RIE_FUNCTION)" = report ]; then \
	  echo "  curl -s -d '{\"since\": \"24h\"}' http://127.0.0.1:$(RIE_PORT)/2015-03-31/functions/function/invocations   # the project report"; \
	  echo "  curl -s -d '{\"service_id\": \"$(DEMO_SERVICE)\", \"since\": \"24h\"}' http://127.0.0.1:$(RIE_PORT)/2015-03-31/functions/function/invocations   # one service"; \
	else \
	  echo "  curl -s -d '{}' http://127.0.0.1:$(RIE_PORT)/2015-03-31/functions/function/invocations"; \
	fi
	@echo
	DEMO_STATE_DIR=$(RIE_DEMO_DIR) $(RIE) --runtime-interface-emulator-address 127.0.0.1:$(RIE_PORT) --runtime-api-address 127.0.0.1:$(RIE_API_PORT) bin/host/$(RIE_FUNCTION)/bootstrap -demo

clean:
	rm -rf $(TOOLS) .aws-sam bin .modelarts-notifier
