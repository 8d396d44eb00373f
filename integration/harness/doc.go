// Package harness starts the FTP servers and runs the FUSE mounts that ftpmount's integration
// tests (package integration) and its benchmark (integration/bench) work against. It is ordinary
// code, not test code: every call takes a context or a deadline and returns an error, and the
// caller decides what a failure means (the tests wrap each call with t.Fatal and t.Cleanup; the
// bench logs and gives up).
//
// # Servers
//
// [Launch] starts one private server of a kind ("vsftpd", "proftpd-tls", "inetutils-ftpd", ...:
// see [Kinds]) and returns once it greets with 220 and the test account ([User], [Password]) can
// log in. What every kind shares is done once, in launcher.go: picking a control port and a
// passive port range that are free ([PickPorts]), a directory of its own for the configuration
// and logs, starting the process in a process group of its own with its output in one file,
// waiting for the greeting (over TLS for the TLS kinds, checking the certificate against the test
// CA), retrying when a port was taken in between, and stopping it with every process it forked
// ([Server.Stop]). What differs is a program description per server (type program), one file each: vsftpd.go, proftpd.go,
// pureftpd.go, pyftpdlib.go, inetd.go. A program names the files it needs, writes its
// configuration and returns the command to run.
//
// Every kind serves a data directory ([NewDataDir], under [Home] and owned by [User]) as the FTP
// root, except the inetd kinds, which do not chroot: they serve the machine's "/" with the login
// directory [Home], so [Server.URL] names the data directory relative to it ([Server.URLPath]).
// A kind KIND-tls requires explicit FTPS (AUTH TLS) on control and data connections;
// KIND-tls-implicit speaks TLS from the first byte. Their certificates come from [MakePKI].
//
// # Mounts
//
// [Mount] runs the ftpmount binary against a source and returns once the filesystem is in
// /proc/mounts; [Unmount] takes it down (fusermount3 -u, retried, then [AbortFUSE] and a lazy
// unmount as the last resort) and waits for the daemon to exit. [ProcessesMatching] and
// [KillTree] find and stop the processes a test started, by a string unique to their command
// lines (a mount point, a configuration file).
//
// # What the machine needs
//
// Root, /dev/fuse and fusermount3; the account scripts/install-deps.sh creates; vsftpd and
// pyftpdlib from Debian, and proftpd, pure-ftpd and the inetd servers unpacked under [ServersDir]
// by the same script. [Tools] lists the files each kind needs, so that a caller can say what is
// missing before it starts anything.
package harness
