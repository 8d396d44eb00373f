package main

import (
	"errors"
	"testing"
	"time"
)

// A command killed at its deadline says so with errTimedOut, which the run
// does not retry; a failing one does not.
func TestTimedOutCommand(t *testing.T) {
	b := &bench{}
	err := b.run(100*time.Millisecond, nil, "sleep", "5").errOf()
	if !errors.Is(err, errTimedOut) {
		t.Fatalf("sleep 5 with a 100 ms deadline: %v, want errTimedOut", err)
	}
	err = b.run(5*time.Second, nil, "false").errOf()
	if err == nil || errors.Is(err, errTimedOut) {
		t.Fatalf("false: %v, want a failure that is not errTimedOut", err)
	}
}
