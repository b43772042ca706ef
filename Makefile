# A thin front for the tasks in deno.json: each target runs the `deno task` of the same name
# (binary runs compile), so the two never disagree. Extra arguments go in ARGS:
#   make serve ARGS="--host 0.0.0.0"     make connect NAME=Alice ARGS="--host 10.0.0.5"
# `make help` needs only make; the other targets need Deno (https://deno.com).

DENO ?= deno
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help serve connect admin test check ok bench binary

help: ## list the targets
	@echo 'ClassChat: make <target> [ARGS="..."]'
	@awk 'BEGIN { FS = ":.*## " } /^[a-z]+:.*## / { printf "  make %-22s %s\n", $$1 ($$1 == "connect" ? " NAME=<you>" : ""), $$2 }' $(MAKEFILE_LIST)

serve: ## run the server (deno task serve)
	$(DENO) task serve $(ARGS)

connect: ## join the chat as NAME (deno task connect)
	$(if $(NAME),,$(error usage: make connect NAME=<your name> [ARGS="..."]))
	$(DENO) task connect $(NAME) $(ARGS)

admin: ## operator tasks, e.g. ARGS="add-admin Prof" (deno task admin)
	$(DENO) task admin $(ARGS)

test: ## run the test suite (deno task test)
	$(DENO) task test $(ARGS)

check: ## type-check everything (deno task check)
	$(DENO) task check $(ARGS)

ok: ## format check, lint, type check and tests (deno task ok)
	$(DENO) task ok $(ARGS)

bench: ## the load generator, against a running server (deno task bench)
	$(DENO) task bench $(ARGS)

binary: ## build the standalone ./classchat (deno task compile)
	$(DENO) task compile $(ARGS)
