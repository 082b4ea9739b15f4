# Run `make help` for the list of targets.
SHELL := /bin/bash
STATICCHECK_VERSION := v0.8.2

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets and what they do.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-20s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: test
test: ## Install/start Redis and Valkey (each + a replica), a Redis Cluster, PostgreSQL and Kafka, run all tests with -race and every fuzz target briefly, stop them.
	scripts/test.sh

.PHONY: cover
cover: ## Like test, and write coverage to cover.out (see `go tool cover -func=cover.out`).
	scripts/test.sh -coverprofile=cover.out -coverpkg=./...
	go tool cover -func=cover.out | tail -n 1

.PHONY: services
services: ## Start the services and keep them running; prints the variables to export.
	scripts/services.sh start
	@echo "# export these to run 'go test' yourself:"
	@scripts/services.sh env | sed 's/^/export /'

.PHONY: services-stop
services-stop: ## Stop the services started by `make services` or an interrupted `make test`.
	scripts/services.sh stop

.PHONY: lint
lint: ## gofmt, go vet and staticcheck (version pinned in this Makefile).
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt would change: $$bad"; exit 1; fi
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

.PHONY: bench
bench: ## Start the services and run the benchmark program (go run ./bench): writes bench/RESULTS.md. Flags: ARGS='-h'.
	scripts/services.sh start
	set -a && eval "$$(scripts/services.sh env)" && set +a && go run ./bench $(ARGS)

.PHONY: bench-go
bench-go: ## Start the services and run the go test benchmarks (no tests, no race detector).
	IDEMQ_RACE= scripts/test.sh -run '^$$' -bench . -benchmem

.PHONY: chaos
chaos: ## Fault run against `make services`: SIGKILLs, a Redis restart, crash and write pause, link faults; 140k messages (kafka-go, Watermill and franz-go groups), 16 faults, about 3 min (at most 5). ARGS='-h'.
	scripts/services.sh start
	go build -o bin/chaos ./chaos
	set -a; eval "$$(scripts/services.sh env)"; set +a; bin/chaos $(ARGS)

.PHONY: chaos-short
chaos-short: ## The short chaos run (< 2 min) that `make test` runs as TestChaosShort. ARGS='-seed N' repeats one.
	scripts/services.sh start
	go build -o bin/chaos ./chaos
	set -a; eval "$$(scripts/services.sh env)"; set +a; bin/chaos -short $(ARGS)

.PHONY: chaos-postgres
chaos-postgres: ## `make chaos` with effects in PostgreSQL (-store postgres): pass means 0 lost, 0 double effect rows, lag 0. ARGS='-h'.
	scripts/services.sh start
	go build -o bin/chaos ./chaos
	set -a; eval "$$(scripts/services.sh env)"; set +a; bin/chaos -store postgres $(ARGS)

.PHONY: chaos-postgres-short
chaos-postgres-short: ## The short PostgreSQL chaos run (< 2 min) that `make test` runs as TestChaosPostgresShort.
	scripts/services.sh start
	go build -o bin/chaos ./chaos
	set -a; eval "$$(scripts/services.sh env)"; set +a; bin/chaos -short -store postgres $(ARGS)

.PHONY: demo
demo: ## Run the demo in-process (kfake, miniredis): duplicates and a crashed consumer, without and with idemq. Flags: ARGS='-h'.
	go run ./cmd/demo-consumer $(ARGS)

.PHONY: demo-postgres
demo-postgres: ## The demo crashing a consumer after its effect, before its commit: plain kafka-go, idemq on Redis, on PostgreSQL (services' Redis and PostgreSQL, Kafka in-process). ARGS='-h'.
	scripts/services.sh start
	set -a; eval "$$(scripts/services.sh env)"; set +a; go run ./cmd/demo-consumer -redis "$$IDEMQ_REDIS_ADDR" -postgres "$$IDEMQ_POSTGRES_URL" $(ARGS)
