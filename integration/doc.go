// Package integration tests ftpmount the way a user meets it: the real binary, built once per run,
// mounts real FTP servers on 127.0.0.1, and the tests drive the mount with ordinary shell tools (ls,
// cat, cp, mv, dd, truncate, sha256sum, ...). Every test checks both sides: what the mount shows and
// the bytes the server really stored in its data directory.
//
// # Running
//
// As root, on Debian 12, from the repository root:
//
//	make integration               # installs fuse3, vsftpd, ... and the FTP test user, then runs
//	go test -count=1 -v ./integration/
//	go test -count=1 -v -run 'TestNamespace/.*/rmdir' ./integration/
//	FTPMOUNT_SERVERS=proftpd go test -count=1 -v -run 'TestWrite' ./integration/
//	FTPMOUNT_SERVERS=tls go test -count=1 -v -run 'TestTLS' ./integration/
//
// FTPMOUNT_BIN=/usr/local/bin/ftpmount tests an installed binary instead of building one.
// scripts/install-deps.sh must have run once: it creates the local account ftpmounttest (password
// ftpmounttest-pw, home /srv/ftpmounttest) that vsftpd authenticates through PAM and the other
// servers' virtual user maps to, and unpacks proftpd and pure-ftpd under /opt/ftpmount-servers.
//
// # Servers
//
// TestHarness, TestRead, TestWrite, TestNamespace, TestTools and TestLargeFile run once per server
// kind, as subtests named after it: vsftpd 3.0.3 (LIST only, MDTM to set times), proftpd 1.3.8,
// pure-ftpd 1.0.50 and pyftpdlib 1.5.7 (MLSD, MFMT, REST+STOR), and their FTPS twins vsftpd-tls,
// proftpd-tls, pure-ftpd-tls and pyftpdlib-tls: explicit FTPS (AUTH TLS) required on control and
// data connections, vsftpd with require_ssl_reuse=YES and proftpd's mod_tls (which requires
// session reuse by default), mounted as ftps:// with -o cafile. vsftpd-tls-implicit and
// proftpd-tls-implicit speak implicit FTPS (mounted with -o implicit_tls); the TestTLS* tests
// (tls_test.go) run on all six TLS kinds. The servers' certificate (CN localhost, SAN
// IP:127.0.0.1) is signed by a CA that the test binary makes with openssl on first use, so
// certificates are checked for real. The other tests use vsftpd, or ftptest in process.
//
// FTPMOUNT_SERVERS selects servers by kind (vsftpd,proftpd-tls,...) or group (plain, tls,
// explicit, implicit); tests on the others skip. Unset or "all", the shared suites run on the
// plain and explicit-TLS kinds and every other test runs. When a test fails, the end of its
// server's logs is printed: the protocol log (every command and reply) and, for TLS kinds, the
// TLS handshakes (version, cipher, session reuse).
//
// # What each test gets
//
// Package harness (integration/harness, shared with the bench) starts the servers and runs the
// mounts; the test files here hold tests, and helpers_test.go wraps each harness call for a test
// (t.Fatal on error, t.Cleanup to stop and unmount), with shell_test.go (commands under a
// deadline) and assert_test.go (checks on both sides) beside it.
//
// TestMain builds ../cmd/ftpmount into a temporary directory. A test calls startServer (or
// newFixture) for a private server of a given kind: its own control port, passive port range and
// configuration, and its own data directory under /srv/ftpmounttest owned by ftpmounttest, in which
// the test makes fixtures as that user. mount runs the binary against it on a fresh mount point.
// `ftpmount` daemonizes and returns when the mount is ready, so the tests use it as soon as the
// command exits. Cleanup unmounts with fusermount3, checks that no ftpmount process is left for that
// mount point, and kills the server with every process it started. Each subtest works in its own
// subdirectory of the mount.
//
// # Never hang, never hide
//
// Every command runs under a deadline (its whole process group is killed when it expires), so a
// filesystem that blocks fails the test instead of stalling the run. Without root, /dev/fuse or a
// server the tests skip and say why, except when CI=true: there they fail, because CI must run them.
package integration
