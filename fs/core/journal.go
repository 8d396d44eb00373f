package core

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// The crash journal. Beside each spool file lies NAME.journal, a small JSON
// document saying what the spool is: which server and path, what the
// server's file was when the spool was made (base size and time), whether
// its close had been called (an upload was under way), and the temporary
// name on the server that upload was writing. It is rewritten (write to a
// temporary file, rename) at each change of state, never per write. A
// daemon that dies leaves both behind; Recover, at the next start for the
// same server, reads them.

const journalSuffix = ".journal"

func journalPath(spoolName string) string { return spoolName + journalSuffix }

// Journal states.
const (
	stateOpen    = "open"    // a writer may still add bytes: the spool may be incomplete
	stateClosing = "closing" // close (or fsync) was called: the spool is the content to upload
	// stateUnlinked: the file's last name was removed while it was open;
	// nothing goes to the server, and Temp is where it was hidden
	// (unlinked.go).
	stateUnlinked = "unlinked"
)

// baseAbsent is journal.BaseSize for a file that did not exist on the
// server when its spool was made (written as -1 in the journal).
const baseAbsent int64 = -1

// journal is the document beside a spool.
type journal struct {
	Server string `json:"server"`
	Path   string `json:"path"` // the file on the server
	State  string `json:"state"`
	// BaseSize and BaseTime are the server's file as it was when the spool
	// was made or last uploaded (baseAbsent: it did not exist; a zero time:
	// not known). Recover uploads a closing spool only over an unchanged file.
	BaseSize int64     `json:"base_size"`
	BaseTime time.Time `json:"base_time"`
	// Size, Need, Base and Low are the spool's fields (see spool) at the
	// last change of state: bytes [0, Need) are not in the spool file.
	Size int64 `json:"size"`
	Need int64 `json:"need"`
	Base int64 `json:"base"`
	Low  int64 `json:"low"`
	// Appending says the upload under way was an append in place (REST+STOR
	// at BaseSize): a crash leaves the server's file between BaseSize and
	// Size bytes, all of them ours, and Recover resumes it.
	Appending bool `json:"appending,omitempty"`
	// Temp is the temporary name an upload was writing on the server, to
	// be removed if the daemon dies.
	Temp    string    `json:"temp,omitempty"`
	Written time.Time `json:"written"`
}

// save writes the spool's journal with the spool's current fields.
// Failing to write it costs crash recovery, not data: it is logged by the
// caller, not returned to the writer.
func (s *spool) save(now time.Time) error {
	s.jr.Size, s.jr.Need, s.jr.Base, s.jr.Low = s.size, s.need, s.base, s.low
	s.jr.Written = now
	b, err := json.Marshal(&s.jr)
	if err != nil {
		return err
	}
	name := journalPath(s.f.Name())
	tmp := name + newSuffix
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

func readJournal(name string) (journal, error) {
	var j journal
	b, err := os.ReadFile(name)
	if err != nil {
		return j, err
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return j, fmt.Errorf("journal %s: %w", name, err)
	}
	return j, nil
}
