# fhirlink: the two commands a newcomer needs are `make demo` and `make test`.
GO      ?= go
PKGS    := ./...
# Node harnesses the tests drive (validators, real FHIR and SMART clients, a
# browser driver for the console),
# installed from their committed lock files.
NODE_HARNESSES := testdata/fhirvalidate testdata/fhirclient server/api/testdata/smartclient server/console/testdata/browser
# make bench: the façade's figures (README, server/README.md#performance);
# BENCH=. BENCH_PKGS=./... runs every benchmark of the repository.
BENCH      ?= BenchmarkOneRow|BenchmarkTenThousandRows|BenchmarkFHIRPatient|BenchmarkFHIRScheduling|BenchmarkFHIRExport
BENCH_PKGS ?= ./server/api
LISTEN  ?= 127.0.0.1:8080
PMS     ?= BestPractice
# staticcheck is installed into the first GOPATH's bin (whatever GOBIN says) when missing.
STATICCHECK_BIN := $(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin
STATICCHECK := $(STATICCHECK_BIN)/staticcheck

.PHONY: demo test bench profile build lint validators

## demo: server + agent + a synthetic practice (SQLite), with example requests;
## PMS=Zedmed for a Zedmed practice instead of Bp Premier
demo:
	$(GO) run ./cmd/fhirlink demo --listen $(LISTEN) --pms $(PMS)

## test: vet, a Windows build of the binary (the agent's main platform), and the full suite, with integration tests against a real PostgreSQL
## that the suite starts on 127.0.0.1 (installing it with apt-get when missing);
## every FHIR resource the tests receive goes through the Node validators
test: validators
	$(GO) vet $(PKGS)
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/fhirlink
	GOOS=windows GOARCH=amd64 $(GO) vet ./cmd/fhirlink
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

## validators: the Node harnesses' npm packages, as their package-lock.json pin them
validators:
	@for d in $(NODE_HARNESSES); do test -d $$d/node_modules || npm ci --prefix $$d --no-audit --no-fund || exit 1; done

## bench: direct SQL and the same work through fhirlink, alternated in one run on a
## throwaway PostgreSQL, with their ratios; figures are printed, not asserted
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count=1 -timeout 30m $(BENCH_PKGS)

## profile: a CPU profile of the whole path (HTTP, server, tunnel, agent; PostgreSQL
## aside) over a 10,000-patient $$export, and its top functions
profile:
	$(GO) test -run '^$$' -bench 'BenchmarkFHIRExport/10000' -benchmem -count=1 -timeout 20m \
		-cpuprofile cpu.prof -o api.test ./server/api
	$(GO) tool pprof -top -cum -nodecount 40 api.test cpu.prof

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/fhirlink ./cmd/fhirlink

## lint: formatting, vet and staticcheck
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(GO) vet $(PKGS)
	@test -x $(STATICCHECK) || GOBIN=$(STATICCHECK_BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	$(STATICCHECK) $(PKGS)
