package main

import "github.com/ftpmount/ftpmount/integration/harness"

// Names mounts.go still uses for what package harness now does; they go when mounts.go calls
// harness itself.

const ftpUser = harness.User

func isMounted(dir string) bool { return harness.IsMounted(dir) }

func processAlive(pid int) bool { return harness.ProcessAlive(pid) }

func (b *bench) abortFUSE(dir string) { harness.AbortFUSE(dir) }
