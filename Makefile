# modelarts-notifier. `make run` and `make test` work on a fresh machine with
# only Go, Node.js and make: they install what they need into .tools/.

GO        ?= go
TOOLS     := $(CURDIR)/.tools
DYNALITE  := $(TOOLS)/node_modules/dynalite/cli.js
RIE       := $(TOOLS)/bin/aws-lambda-rie
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags='-s -w -buildid='

export DYNALITE_CLI := $(DYNALITE)
export RIE_BIN      := $(RIE)

.PHONY: run test bench lint tools fuzz clean

## run: one poll of the built-in simulated ModelArts, summaries on the terminal.
run:
	$(GO) run ./functions/poller -demo

## test: every test, with the peers they talk to (dynalite, the Lambda RIE).
test: tools
	$(GO) vet ./...
	$(GO) test -race -shuffle=on -count=1 -timeout 30m ./...

## tools: install dynalite (npm) and build the Lambda Runtime Interface Emulator (pinned in go.mod).
tools: $(DYNALITE) $(RIE)

$(DYNALITE):
	mkdir -p $(TOOLS)
	cd $(TOOLS) && [ -f package.json ] || echo '{"private":true}' > $(TOOLS)/package.json
	npm install --prefix $(TOOLS) --no-audit --no-fund dynalite@4

$(RIE): go.mod go.sum
	mkdir -p $(TOOLS)/bin
	$(GO) build -o $(RIE) github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf $(TOOLS) .aws-sam bin .modelarts-notifier
