# The two commands of the README. Each does its own set-up (idempotently).
.PHONY: run test build lint bench eval e2e bundle lab lab-stop

run:
	scripts/setup.sh
	scripts/build-site.sh release
	LEPTOS_SITE_ROOT=target/site ./target/release/sentinel serve

test:
	scripts/test.sh

build:
	scripts/setup.sh
	scripts/build-site.sh debug

lint:
	cargo fmt --all -- --check
	cargo clippy -p sentinel-model -p sentinel-app -p sentinel-engine -p sentinel-server --all-targets -- -D warnings
	cargo clippy -p sentinel-frontend --target wasm32-unknown-unknown -- -D warnings

bench:
	cargo bench -p sentinel-server

eval:
	cargo run -p sentinel-server --bin sentinel -- eval --suite public=data/scenarios --suite regression=server/tests/fixtures/regression --out reports --max-harmful 0

# The dashboard's gzipped WebAssembly; `make bundle BASE=<rev>` also builds <rev> and prints the ratio.
bundle:
	scripts/bundle-size.sh $(BASE)

# The lab: Prometheus, Alertmanager, the simulated fleet and Sentinel on loopback (README, "The lab").
lab:
	scripts/lab.sh start

lab-stop:
	scripts/lab.sh stop
