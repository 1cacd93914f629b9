package disk

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sync"
)

// createTemp creates a new empty file in dir and returns it with its path
// (relative to the root).
func (s *Store) createTemp(dir string) (*os.File, string, error) {
	for range 10 {
		b := make([]byte, 12)
		rand.Read(b)
		name := path.Join(dir, "."+hex.EncodeToString(b)+".tmp")
		f, err := s.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, name, err
	}
	return nil, "", fmt.Errorf("create temp file in %s: too many collisions", dir)
}

// writeJSON writes v to name atomically: temp file in the same directory,
// fsync, rename, fsync of the directory.
func (s *Store) writeJSON(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dir := path.Dir(name)
	if err := s.root.MkdirAll(dir, dirPerm); err != nil {
		return err
	}
	f, tmp, err := s.createTemp(dir)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	err = errors.Join(err, f.Sync(), f.Close())
	if err == nil {
		err = s.root.Rename(tmp, name)
	}
	if err != nil {
		s.root.Remove(tmp)
		return err
	}
	return s.syncDir(dir)
}

// syncDir fsyncs a directory so renames and links in it survive a crash.
func (s *Store) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// lockTable hands out named read-write locks that exist only while held,
// so the table does not grow with the number of uploads.
type lockTable struct {
	mu    sync.Mutex
	locks map[string]*lockEntry
}

// lockEntry is one named lock and how many goroutines hold or wait for it.
type lockEntry struct {
	sync.RWMutex
	refs int
}

// acquire returns the entry for name, counting the caller in.
func (t *lockTable) acquire(name string) *lockEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.locks == nil {
		t.locks = make(map[string]*lockEntry)
	}
	e := t.locks[name]
	if e == nil {
		e = &lockEntry{}
		t.locks[name] = e
	}
	e.refs++
	return e
}

// release counts the caller out, dropping the entry when nobody uses it.
func (t *lockTable) release(name string, e *lockEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(t.locks, name)
	}
}

// lock takes name exclusively and returns the unlock function.
func (t *lockTable) lock(name string) func() {
	e := t.acquire(name)
	e.Lock()
	return func() { e.Unlock(); t.release(name, e) }
}

// rlock takes name shared and returns the unlock function.
func (t *lockTable) rlock(name string) func() {
	e := t.acquire(name)
	e.RLock()
	return func() { e.RUnlock(); t.release(name, e) }
}
