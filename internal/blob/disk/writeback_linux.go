//go:build linux && (amd64 || arm64)

package disk

import (
	"os"
	"syscall"
)

// startWriteback asks the kernel to start writing n bytes of f at off to
// disk without waiting (sync_file_range SYNC_FILE_RANGE_WRITE), so a large
// upload's writeback overlaps its receipt and the fsync at its end has
// little left to do, instead of every byte waiting for that fsync. It is a
// hint, not a durability step: errors are ignored (the fsync reports them).
// PostgreSQL (backend_flush_after) and RocksDB (bytes_per_sync) do the same.
func startWriteback(f *os.File, off, n int64) {
	sc, err := f.SyscallConn()
	if err != nil {
		return
	}
	const syncFileRangeWrite = 2 // SYNC_FILE_RANGE_WRITE
	_ = sc.Control(func(fd uintptr) {
		syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, fd, uintptr(off), uintptr(n), syncFileRangeWrite, 0, 0)
	})
}
