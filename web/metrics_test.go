package main

import (
	"fmt"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/weupload/weupload/internal/blob"
)

// counter reads a Prometheus counter.
func counter(t testing.TB, c interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestUploadMetrics checks that the upload counters follow the state
// changes exactly once: a repeated complete counts nothing, an abort and a
// verification failure count as such, and the bytes are those completed.
func TestUploadMetrics(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, _ := ta.shareUser(t, "ann@example.com")
	events := func(e string) float64 { return counter(t, ta.metrics.uploads.WithLabelValues(e)) }
	initiate := func(name string, size int) apiUploadURLs {
		r := ann.apiCall("POST", "/api/v1/uploads", "", fmt.Sprintf(`{"name":%q,"size":%d,"content_type":"text/plain"}`, name, size))
		wantStatus(t, r, http.StatusCreated)
		return decode[apiUploadURLs](t, r)
	}

	u := initiate("a.txt", 5)
	if st, _ := put(t, u.URL, u.Headers, []byte("hello")); st != http.StatusOK {
		t.Fatalf("PUT %d", st)
	}
	for range 2 {
		wantStatus(t, ann.apiCall("POST", "/api/v1/uploads/"+u.ID+"/complete", "", `{"parts":[]}`), http.StatusOK)
	}
	wantStatus(t, ann.apiCall("DELETE", "/api/v1/uploads/"+initiate("b.txt", 3).ID, "", ""), http.StatusNoContent)
	// A wrong-size object at the upload's key (as a store that did not
	// enforce the signed length would keep): the size check fails.
	short := initiate("c.txt", 4)
	var key string
	if err := ta.pool.QueryRow(t.Context(), `SELECT object_key FROM uploads WHERE id = $1`, short.ID).Scan(&key); err != nil {
		t.Fatal(err)
	}
	req, err := ta.blob.PresignPut(t.Context(), key, blob.PutOptions{Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := put(t, req.URL, req.Header, []byte("ab")); st != http.StatusOK {
		t.Fatalf("plant: %d", st)
	}
	wantStatus(t, ann.apiCall("POST", "/api/v1/uploads/"+short.ID+"/complete", "", `{"parts":[]}`), http.StatusUnprocessableEntity)

	for e, want := range map[string]float64{"initiated": 3, "completed": 1, "aborted": 1, "failed": 1, "expired": 0} {
		if got := events(e); got != want {
			t.Errorf("uploads_total{event=%q} = %v, want %v", e, got, want)
		}
	}
	if got := counter(t, ta.metrics.uploadBytes); got != 5 {
		t.Errorf("upload bytes completed = %v, want 5", got)
	}
}
