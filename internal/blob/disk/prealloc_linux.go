package disk

import (
	"errors"
	"os"
	"syscall"
)

// preallocate reserves size bytes for f, so a full disk fails the upload at
// its start rather than at a later part. Filesystems without fallocate get
// a sparse file.
func preallocate(f *os.File, size int64) error {
	if size == 0 {
		return nil
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := sc.Control(func(fd uintptr) { ferr = syscall.Fallocate(int(fd), 0, 0, size) }); err != nil {
		return err
	}
	if ferr == nil {
		return nil
	}
	if errors.Is(ferr, syscall.EOPNOTSUPP) || errors.Is(ferr, syscall.ENOSYS) {
		return f.Truncate(size)
	}
	return ferr
}
