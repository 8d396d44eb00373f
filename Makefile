# ftpmount. `make test` is what CI runs (.ci/run): it installs the system packages the tests need
# (scripts/install-deps.sh, as root), then vets, checks formatting and runs every test with -race,
# the integration tests included (they mount the real binary against vsftpd).

# The go command: from PATH, else the default install location.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
GOFMT = $(shell $(GO) env GOROOT)/bin/gofmt
PREFIX ?= /usr/local

# nfpm builds the Debian package (make deb), run through the module proxy at a pinned version.
NFPM = github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
ARCH ?= $(shell $(GO) env GOARCH)
# The package version: 0.1.0 plus the commit, e.g. 0.1.0+git2e30bd0 (debian/changelog-free).
VERSION ?= 0.1.0+git$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

.PHONY: build deps test race unit integration demo install lint clean bench bench-quick deb deb-test

build:
	$(GO) build -buildvcs=auto -o bin/ftpmount ./cmd/ftpmount

deps:
	bash scripts/install-deps.sh

test: deps lint
	$(GO) test -race -count=1 -timeout 60m ./...
	$(MAKE) deb-test

race: test

# Everything but the integration tests: no root, FUSE or FTP server needed.
unit:
	@pkgs=$$($(GO) list ./... | grep -v /integration); \
	if [ -n "$$pkgs" ]; then $(GO) test -race $$pkgs; else echo "no unit test packages yet"; fi

integration: deps
	$(GO) test -race -count=1 -timeout 60m ./integration/...

demo: deps build
	bash scripts/demo.sh

# mount(8) and fstab entries of type fuse.ftpmount run mount.fuse3, which runs `ftpmount` from PATH.
install: build
	install -D -m 0755 bin/ftpmount $(DESTDIR)$(PREFIX)/bin/ftpmount
	install -D -m 0644 doc/ftpmount.1 $(DESTDIR)$(PREFIX)/share/man/man1/ftpmount.1

# bin/ftpmount_VERSION_ARCH.deb: the binary, the man page, README, LICENSE, example fstab lines
# and systemd unit (packaging/).
deb: build
	gzip -9 -n -c doc/ftpmount.1 > bin/ftpmount.1.gz
	rm -f bin/ftpmount_*.deb
	VERSION=$(VERSION) ARCH=$(ARCH) $(GO) run $(NFPM) package --packager deb --config packaging/nfpm.yaml --target bin/

# Installs the package built by `make deb` (as root), mounts vsftpd through an fstab entry of type
# fuse.ftpmount with it (integration.TestInstalledPackage), and removes the package again.
deb-test: deb
	dpkg -i bin/ftpmount_*.deb
	FTPMOUNT_PACKAGE_TEST=1 $(GO) test -count=1 -run TestInstalledPackage ./integration/; \
	status=$$?; dpkg -r ftpmount >/dev/null; exit $$status

# ftpmount against raw curl and rclone's mount on vsftpd, at 0, 20 and 40 ms of added latency each way
# (0, 40 and 80 ms round trips), and huge directories (200k, 1M entries) on loopback (as root; about
# an hour and a half). Prints a markdown table; writes bench-results/bench.md and bench.png.
# bench-quick: small sizes, one run each, about a minute and a half: a smoke test of the bench itself.
bench: build
	GO=$(GO) bash scripts/bench.sh -bin bin/ftpmount

bench-quick: build
	GO=$(GO) bash scripts/bench.sh -bin bin/ftpmount -quick

lint:
	$(GO) vet ./...
	@unformatted=$$($(GOFMT) -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi

clean:
	rm -rf bin
