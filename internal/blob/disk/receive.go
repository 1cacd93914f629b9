package disk

import (
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"net/http"
	"os"
)

// A PUT streams through a pooled pipe of chunkCount buffers of chunkSize
// bytes (1 MiB in all, the memory one upload holds): the request's
// goroutine reads a chunk from the body and writes it to the file while a
// second goroutine hashes it, so the SHA-256 (1.6 GB/s on one core) runs
// beside the copy instead of after it. Every writebackEvery bytes the
// kernel is asked to start writing the file out (see startWriteback), so
// the final fsync finds most of it already on disk.
const (
	chunkSize      = 256 << 10
	chunkCount     = 4
	writebackEvery = 8 << 20
)

// pipe is the pooled state of one PUT: its buffers, the channels that pass
// them between the copy and the hash, and the hash.
type pipe struct {
	bufs  [chunkCount][]byte
	free  chan []byte // buffers neither being filled, written nor hashed
	full  chan []byte // chunks to hash; nil ends the hash goroutine
	ended chan struct{}
	h     hash.Hash
}

func newPipe() *pipe {
	p := &pipe{
		free:  make(chan []byte, chunkCount),
		full:  make(chan []byte, chunkCount+1),
		ended: make(chan struct{}),
		h:     sha256.New(),
	}
	for i := range p.bufs {
		p.bufs[i] = make([]byte, chunkSize)
	}
	return p
}

// hashChunks hashes the chunks sent on full until nil, handing each buffer
// back on free.
func (p *pipe) hashChunks() {
	for b := range p.full {
		if b == nil {
			break
		}
		p.h.Write(b)
		p.free <- b[:cap(b)]
	}
	p.ended <- struct{}{}
}

// receive copies exactly length bytes of body into f at offset off and,
// when hash is set, returns their SHA-256 (nil otherwise). On failure it returns the status to answer: 400
// when the client sent too little (or the connection failed), 500 when the
// disk failed. Nothing is buffered beyond the pipe's chunks.
func (s *Store) receive(f *os.File, off int64, body io.Reader, length int64, hash bool) ([]byte, int, error) {
	p := s.pipes.Get().(*pipe)
	defer s.pipes.Put(p)
	p.h.Reset()
	for _, b := range p.bufs {
		p.free <- b
	}
	if hash {
		go p.hashChunks()
	}
	var (
		done, flushed int64
		status        = http.StatusOK
		err           error
	)
	for done < length {
		b := <-p.free
		n, rerr := io.ReadFull(body, b[:min(int64(len(b)), length-done)])
		if n > 0 {
			if hash {
				p.full <- b[:n] // hashed while it is written
			}
			_, werr := f.WriteAt(b[:n], off+done)
			if !hash {
				p.free <- b
			}
			if werr != nil {
				status, err = http.StatusInternalServerError, werr
				break
			}
			done += int64(n)
			if done-flushed >= writebackEvery {
				startWriteback(f, off+flushed, done-flushed)
				flushed = done
			}
		} else {
			p.free <- b
		}
		if rerr != nil {
			status, err = http.StatusBadRequest, incomplete(rerr)
			break
		}
	}
	if hash {
		p.full <- nil
		<-p.ended
	}
	for range chunkCount { // every buffer is back; empty the channel for the next PUT
		<-p.free
	}
	switch {
	case err != nil:
		return nil, status, err
	case !hash:
		return nil, http.StatusOK, nil
	}
	return p.h.Sum(nil), http.StatusOK, nil
}

// incomplete describes a body that ended early or could not be read.
func incomplete(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("IncompleteBody: the body is shorter than Content-Length")
	}
	return errors.New("IncompleteBody: " + err.Error())
}
