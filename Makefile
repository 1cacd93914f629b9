# The README's two commands: `make dev` runs the app, `make test` runs the
# whole test suite (what .ci/run runs). Everything else is a helper.
.PHONY: dev dev-stop test generate check-generated lint tools build clean

dev: ## run the app with a private PostgreSQL and the local-disk store
	scripts/dev.sh

dev-stop: ## stop everything make dev started: server, watchers, PostgreSQL
	scripts/dev-stop.sh

test: ## run every test (PostgreSQL, versitygw and Chromium included)
	scripts/test.sh

generate: ## regenerate templ views, Tailwind CSS and the vendored htmx
	scripts/generate.sh

check-generated: ## fail when a generated file is stale
	scripts/generate.sh --check

lint: ## go vet + staticcheck + gofmt
	scripts/lint.sh

tools: ## install the pinned dev tools into the cache
	scripts/tools.sh

build: ## the production binary
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/weupload ./web

clean:
	rm -rf bin tmp
