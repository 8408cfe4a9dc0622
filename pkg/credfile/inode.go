package credfile

import (
	"io"
	"os"
	"syscall"
)

var errEOF = io.EOF

// inode distinguishes a file replaced by rename even when its size and
// mtime happen to match (Kubernetes swaps secret volumes by symlink).
func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}
