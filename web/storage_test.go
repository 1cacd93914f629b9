package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A PUT to /blob/ may take longer than the server's read timeout, which is
// right for JSON but would cut off every large upload.
func TestTransferDeadlines(t *testing.T) {
	got := make(chan int, 1)
	h := withTransferDeadlines(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		got <- int(n)
	}))
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)

	pr, pw := io.Pipe()
	go func() {
		for range 6 {
			time.Sleep(100 * time.Millisecond)
			pw.Write([]byte("x"))
		}
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/blob/u/x", pr)
	req.ContentLength = 6
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if n := <-got; n != 6 || res.StatusCode != http.StatusOK {
		t.Fatalf("read %d bytes, status %d; want all 6 after the 200ms read timeout", n, res.StatusCode)
	}
}
