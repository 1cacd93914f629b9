package disk_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/weupload/weupload/internal/blob"
)

// benchSize is the object size of the benchmarks: large enough that the
// signature check and file creation do not dominate.
const benchSize = 64 << 20

// BenchmarkPut uploads 64 MiB objects through signed URLs on loopback:
// HTTP, write, fsync, link; "sha256" signs the digest, so the body is also
// hashed (beside the copy) and checked.
func BenchmarkPut(b *testing.B) {
	data := make([]byte, benchSize)
	rand.Read(data)
	sum := sha256.Sum256(data)
	for _, bm := range []struct {
		name string
		o    blob.PutOptions
	}{{"plain", blob.PutOptions{Size: benchSize}}, {"sha256", blob.PutOptions{Size: benchSize, SHA256: sum[:]}}} {
		b.Run(bm.name, func(b *testing.B) {
			s := newStore(b)
			ctx := context.Background()
			client := &http.Client{Transport: &http.Transport{Proxy: nil}}
			b.SetBytes(benchSize)
			for i := 0; b.Loop(); i++ {
				req, err := s.PresignPut(ctx, fmt.Sprintf("u/bench/%d", i), bm.o)
				if err != nil {
					b.Fatal(err)
				}
				hr, _ := http.NewRequest(req.Method, req.URL, bytes.NewReader(data))
				for k, v := range req.Header {
					hr.Header.Set(k, v)
				}
				resp, err := client.Do(hr)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("PUT: %d", resp.StatusCode)
				}
			}
		})
	}
}

// BenchmarkGet downloads a 64 MiB object through a signed URL on loopback.
func BenchmarkGet(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	data := make([]byte, benchSize)
	rand.Read(data)
	put(b, s, "u/bench/x", data, blob.PutOptions{})
	u, err := s.PresignGet(ctx, "u/bench/x", blob.GetOptions{Filename: "x.bin"})
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	b.SetBytes(benchSize)
	for b.Loop() {
		resp, err := client.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != benchSize || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET: %d, %d bytes, %v", resp.StatusCode, n, err)
		}
	}
}
