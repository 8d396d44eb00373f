// Package ftptest runs a real FTP server in the test process, for tests
// that need one without installing anything:
//
//	s := ftptest.Start(t, ftptest.Options{})
//	os.WriteFile(filepath.Join(s.Dir, "f"), data, 0o644) // appears as /f
//	c, err := ftp.Dial(s.Addr)                            // jlaffaye/ftp
//	err = c.Login(s.User, s.Password)                     // "test", "secret"
//
// The server is goftp.io/server/v2 v2.0.3, which runs the control
// connection, login, FEAT, CWD/PWD, DELE, MKD, RNFR/RNTO, MLST, MDTM, STAT,
// OPTS, TYPE, NOOP and QUIT, with every command that uses a data
// connection rewritten here (see "goftp.io as found" below for why).
//
// # What it serves
//
// Options.Dir (default t.TempDir()) as "/", through an os.Root, so no path
// or symlink leads out of it. Tests prepare and check files directly in
// s.Dir. Everything listens on 127.0.0.1 only: the control port and one
// fresh kernel-chosen port per PASV/EPSV. At t.Cleanup (or Close) the
// server stops listening, closes every connection and waits for its
// sessions to end.
//
// # What it supports
//
//   - MLSD, advertised in FEAT as "MLST Type*;Modify*;Size*;". One line per
//     entry, sorted by name: "Type=file;Modify=20200102030405;Size=3; f\r\n".
//     Type is file or dir (a symlink shows as a file), Modify is UTC to
//     the second, Size is given for directories too. No "." or ".." unless
//     Options.ListDots (then "Type=cdir" and "Type=pdir" come first, as on
//     proftpd and pure-ftpd). MLSD of a file is an error (550).
//   - LIST in `ls -l` format ("-rw-r--r-- 1 test test  [size] Nov 21 06:26 f",
//     UTC, the year in place of the time after six months) and NLST
//     (names). LIST and NLST of a file list that file.
//     Options.NoMLSD removes MLSD and MLST, so clients use LIST (as on vsftpd).
//   - EPSV and PASV (227 announces 127,0,0,1). No PORT/EPRT/LPRT (500).
//   - RETR, STOR, APPE, REST. All transfers are binary (TYPE is accepted and
//     ignored). REST n + RETR sends from n; past the end it sends nothing
//     and replies 226. REST n + STOR writes from n and keeps the rest of the
//     file; n beyond the size gets 554. STOR truncates; APPE appends or
//     creates. The data connection is closed before the 226.
//   - SIZE (of plain files), MKD (no parents), RMD (empty directories only),
//     DELE (not directories), RNFR/RNTO (replaces an existing target), MLST,
//     MDTM (reads only; it works but FEAT does not list it, so jlaffaye's
//     GetTime reports it unsupported).
//   - Not supported: MFMT or any way to set a time, ABOR, SITE, TLS, active
//     mode. Unknown commands get 500 "Command not found".
//
// # Replies worth knowing (pinned by the tests)
//
// Errors name the FTP path, never the local one.
//
//	MLSD, LIST, NLST of a missing dir  550 stat /x: no such file or directory
//	RETR of a missing file             550 open /x: no such file or directory
//	RETR of a directory                550 /x: not a plain file
//	STOR into a missing directory      550 open /nodir/f: no such file or directory
//	closing a RETR early               426 Connection closed; transfer aborted.
//	SIZE of a missing file / a dir     550 stat /x: ... / 550 /d: not a plain file
//	DELE of a missing file or a dir    550 File delete failed.
//	RNFR of a missing file             550 Action not taken: stat /x: no such file or directory
//	MKD of an existing directory       550 Action not taken: mkdir /d: file exists
//	RMD of a non-empty directory       550 Directory delete failed: remove /d: directory not empty
//	MLST /a/f                          250-Start / " Type=file;...; f" / 250 End (base name only)
//	any command before login           530 not logged in
//	RETR, STOR, ... without argument   553 action aborted, required param missing
//
// All of these come before any 150, and leave the connection usable. An
// early close gets 426 only if the server is still writing when the client
// closes; when the rest of the file already sat in socket buffers (loopback
// buffers grow to several MiB) the reply is 226. Either way the connection
// stays usable.
//
// # Faults
//
// Options.Faults injects failures (see Faults for the details):
//
//   - Hook sees every command line before goftp.io does, and the moment
//     before the greeting (cmd ""). Its Action can Stall, then send any
//     Reply verbatim in place of handling the command, then HangUp:
//     {Reply: "421 Service not available", HangUp: true} on "NOOP" makes
//     the client's NoOp fail with 421 and every later call fail; {Reply:
//     "421 Too many connections", HangUp: true} at cmd "" makes Dial fail;
//     {Reply: "502 ..."} on "EPSV" makes jlaffaye fall back to PASV;
//     {Stall: d} delays a command and then runs it.
//   - ShortRead makes a RETR send only n bytes and then 226: the client
//     sees a short file and no error.
//   - FailUpload makes a STOR or APPE reply e.g. "451 ..." after the data
//     was stored in full.
//
// Faults inside a transfer (a cut or a stall after n bytes of a RETR or
// STOR, then 426 or another reply) come from a proxy in front of the
// server: StartProxy(t, s.Addr, TransferFaults{...}) relays the control
// connection, puts its own data ports in the 227/229 replies and applies
// the cuts there (see transfer_faults.go). Close stops the whole server at
// any moment (a server that goes away); it does not come back on the same
// port.
//
// # goftp.io as found (v2.0.3), and why commands are replaced
//
// Its passive sockets listen on all interfaces (":port"), and the data
// socket of a session is unexported, so a command cannot supply another.
// Hence PASV, EPSV, REST, RETR, STOR, APPE, LIST, NLST and MLSD are
// rewritten here, and PORT, EPRT and LPRT removed. Its own behaviour, seen
// with jlaffaye/ftp, for anyone tempted to use it directly:
//
//   - RETR of a missing file: 551 "File not available"; closing a RETR
//     early: 551 "Error reading file". LIST/MLSD of a missing directory:
//     550 with the error text, which includes the local path.
//   - APPE without REST truncates the file (it passes offset -1, which
//     means "create"); REST n + STOR appends at the end whatever n is.
//   - Its driver/file deletes directories recursively on RMD and makes
//     parents on MKD (MKD of an existing directory succeeds).
//   - RMD /a/b from "/" changes the working directory to /a, even when it
//     fails (ftptest replaces RMD and XRMD for that).
//   - SIZE of a missing file: 450, logged with log.Printf (ftptest: 550).
//   - STOR replies 150 before opening the file; errors come as 450, and it
//     never closes the data connection of an upload.
//   - MLSD lines end in "\n" and Modify, MDTM and MLST use local time
//     (ftptest: CRLF, and its Driver reports UTC times).
//   - Shutdown races with Serve (unlocked fields), and all sessions of a
//     server share one log id.
package ftptest
