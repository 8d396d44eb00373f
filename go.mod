module github.com/ftpmount/ftpmount

go 1.26.8

require (
	github.com/hanwen/go-fuse/v2 v2.12.1
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/jlaffaye/ftp v0.2.4
	goftp.io/server/v2 v2.0.3
	golang.org/x/term v0.32.0
	golang.org/x/text v0.43.0
)

require golang.org/x/sys v0.33.0 // indirect
