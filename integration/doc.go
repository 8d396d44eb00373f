// Package integration tests ftpmount the way a user meets it: the real binary, built once per run,
// mounts a real vsftpd on 127.0.0.1, and the tests drive the mount with ordinary shell tools (ls,
// cat, cp, mv, dd, truncate, sha256sum, ...). Every test checks both sides: what the mount shows and
// the bytes vsftpd really stored in its data directory.
//
// # Running
//
// As root, on Debian 12, from the repository root:
//
//	make integration               # installs fuse3, vsftpd, ... and the FTP test user, then runs
//	go test -count=1 -v ./integration/
//	go test -count=1 -v -run 'TestNamespace/rmdir' ./integration/
//
// FTPMOUNT_BIN=/usr/local/bin/ftpmount tests an installed binary instead of building one.
// scripts/install-deps.sh must have run once: it creates the local account ftpmounttest (password
// ftpmounttest-pw, home /srv/ftpmounttest) that vsftpd authenticates through PAM.
//
// # What each test gets
//
// TestMain builds ../cmd/ftpmount into a temporary directory. A test calls startVsftpd for a private
// server (its own control port, passive port range and data directory under /srv/ftpmounttest), then
// mount to run the binary against it on a fresh mount point. `ftpmount` daemonizes and returns when
// the mount is ready, so the tests use it as soon as the command exits. Cleanup unmounts with
// fusermount3, checks that no ftpmount process is left for that mount point, and stops vsftpd.
// Each subtest works in its own subdirectory of the mount.
//
// # Never hang, never hide
//
// Every command runs under a deadline (its whole process group is killed when it expires), so a
// filesystem that blocks fails the test instead of stalling the run. Without root, /dev/fuse or
// vsftpd the tests skip and say why, except when CI=true: there they fail, because CI must run them.
package integration
