//go:build !linux

package disk

import "os"

// preallocate sizes f to size bytes (sparse where the filesystem allows).
func preallocate(f *os.File, size int64) error {
	return f.Truncate(size)
}
