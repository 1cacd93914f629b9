package disk

import (
	"context"
	"errors"
	"io"
	"iter"
	"path"
	"strings"

	"github.com/weupload/weupload/internal/blob"
)

// listBatch is how many directory entries List reads at a time, so a
// directory of a million objects is never held in memory.
const listBatch = 256

// List walks objects/ from the deepest directory the prefix names, reading
// each directory in batches, and yields the regular files whose key starts
// with prefix (directory order, not key order). Uploads in progress live
// under uploads/ and are not listed. A prefix that is not a valid key
// prefix lists nothing.
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[blob.ObjectInfo, error] {
	return func(yield func(blob.ObjectInfo, error) bool) {
		dir := ""
		if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
			dir = prefix[:i]
			if blob.ValidateKey(dir) != nil {
				return
			}
		}
		if _, err := s.walk(ctx, dir, prefix, yield); err != nil {
			yield(blob.ObjectInfo{}, wrapf("list", prefix, err))
		}
	}
}

// walk lists the directory dir (a key prefix ending before a "/", "" for
// all of objects/) and the directories below it that can hold keys with
// prefix. It reports false when yield asked to stop.
func (s *Store) walk(ctx context.Context, dir, prefix string, yield func(blob.ObjectInfo, error) bool) (bool, error) {
	f, err := s.root.Open(path.Join(objectsDir, dir))
	if notFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		entries, err := f.ReadDir(listBatch)
		for _, e := range entries {
			key := e.Name()
			if dir != "" {
				key = dir + "/" + key
			}
			switch {
			case e.IsDir():
				if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
					continue
				}
				if more, err := s.walk(ctx, key, prefix, yield); !more || err != nil {
					return more, err
				}
			case e.Type().IsRegular() && strings.HasPrefix(key, prefix):
				fi, err := e.Info()
				if notFound(err) {
					continue // deleted since the directory was read
				}
				if err != nil {
					return false, err
				}
				if !yield(blob.ObjectInfo{Key: key, Size: fi.Size(), Modified: fi.ModTime()}, nil) {
					return false, nil
				}
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && len(entries) == 0) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}
