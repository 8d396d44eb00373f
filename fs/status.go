package fs

import (
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/ftpmount/ftpmount/fs/core"
)

// Status is what a mount can tell about itself for `ftpmount status`,
// beyond the FTP client's own activity (ftpconn.Activity): where files
// being written are staged, and what the recovery folder holds — the
// data of uploads that failed (see spool.keep), which a shell's
// `echo data > file` never reports, since shells ignore close's result.
type Status struct {
	SpoolDir    string         `json:"spool_dir"`
	RecoveryDir string         `json:"recovery_dir"`
	Recovery    []RecoveryFile `json:"recovery"` // oldest first
	RecoveryErr string         `json:"recovery_err,omitempty"`
	// Queued are files closed with -o writeback that the server does not
	// have yet (waiting, uploading, or failed: Err).
	Queued []core.Queued `json:"queued,omitempty"`
}

// RecoveryFile is a file kept in the recovery folder: NAME.UNIXNANO.
type RecoveryFile struct {
	Path string    `json:"path"`
	Size int64     `json:"size"`
	Kept time.Time `json:"kept"`
}

// UploadTarget is the file that an upload under the temporary name p
// replaces, and whether p is such a name (core.TempTarget).
func UploadTarget(p string) (string, bool) { return core.TempTarget(p) }

// Status reads the recovery folder (it may be shared by several mounts:
// everything in it is listed). A folder not created yet is empty.
func (s *Server) Status() Status {
	st := Status{SpoolDir: s.m.opts.SpoolDir, RecoveryDir: s.m.opts.RecoverDir, Queued: s.m.core.Queued()}
	if st.RecoveryDir == "" {
		return st
	}
	ents, err := os.ReadDir(st.RecoveryDir)
	if err != nil && !os.IsNotExist(err) {
		st.RecoveryErr = err.Error()
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		st.Recovery = append(st.Recovery, RecoveryFile{
			Path: filepath.Join(st.RecoveryDir, e.Name()), Size: fi.Size(), Kept: fi.ModTime(),
		})
	}
	sort.Slice(st.Recovery, func(i, j int) bool { return st.Recovery[i].Kept.Before(st.Recovery[j].Kept) })
	return st
}
