// Package s3test gives tests a real S3-compatible bucket: a fresh bucket per
// test on the server named by TEST_S3_ENDPOINT, or on a versitygw started
// once per test binary.
//
// With TEST_S3_ENDPOINT set (plus TEST_S3_ACCESS_KEY, TEST_S3_SECRET_KEY and
// optionally TEST_S3_REGION) that server is used. Otherwise the versitygw
// binary is looked up on PATH, then in $WEUPLOAD_TOOLS_DIR and its bin/, then
// in $HOME/.cache/weupload/bin (where scripts/tools.sh puts it), and started on a free 127.0.0.1 port with a
// temporary posix root. When it is missing the test is skipped, or fails
// when CI=true.
//
// NewUnderPolicy (iam.go) gives a bucket on a second versitygw pair that
// enforces IAM identity policies, and a user holding only a given policy.
package s3test

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/weupload/weupload/internal/blob/s3"
)

// InstallCommand builds the versitygw version the tests are written against
// (about 4.5 minutes on 2 cores).
const InstallCommand = "scripts/tools.sh versitygw (or: GOBIN=$HOME/.cache/weupload/bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)"

// Credentials of the versitygw root account started by this package.
const (
	accessKey = "weupload-test"
	secretKey = "weupload-test-secret-key"
	region    = "us-east-1"
)

// server is the shared S3 endpoint of a test binary.
type server struct {
	endpoint, accessKey, secretKey, region string
	err                                    error // why there is no server
	skip                                   bool  // err means "not installed"
}

// shared is the one versitygw of this test binary. It and sharedIAM are the
// package's only mutable state, and exist because starting a server per
// test would cost a second each; it is started on first use and dies with
// the test binary.
var shared = sync.OnceValue(startServer)

// New returns a Config for a fresh, empty bucket with a CORS rule allowing
// origins (all origins when none are given). The bucket and everything in it
// are deleted when the test ends.
func New(tb testing.TB, origins ...string) s3.Config {
	tb.Helper()
	srv := shared()
	requireServer(tb, "", srv.err, srv.skip)
	if len(origins) == 0 {
		origins = []string{"*"}
	}
	return newBucket(tb, srv, origins)
}

// requireServer skips the test when err says versitygw is not installed (fails
// it instead when CI=true), and fails it on any other err.
func requireServer(tb testing.TB, what string, err error, skip bool) {
	tb.Helper()
	if err == nil {
		return
	}
	if skip && os.Getenv("CI") != "true" {
		tb.Skipf("s3test: %v; install it with: %s", err, InstallCommand)
	}
	tb.Fatalf("s3test: %s%v (install with: %s)", what, err, InstallCommand)
}

// newBucket creates a fresh bucket on srv with a CORS rule allowing origins,
// deleted with everything in it when the test ends.
func newBucket(tb testing.TB, srv *server, origins []string) s3.Config {
	tb.Helper()
	cfg := s3.Config{
		Bucket:    "t-" + randomHex(12),
		Region:    srv.region,
		Endpoint:  srv.endpoint,
		PathStyle: true,
		AccessKey: srv.accessKey,
		SecretKey: srv.secretKey,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := s3.New(ctx, cfg)
	if err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	if err := store.EnsureBucket(ctx, origins); err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	tb.Cleanup(func() {
		if err := deleteBucket(cfg); err != nil {
			tb.Errorf("s3test: delete bucket %s: %v", cfg.Bucket, err)
		}
	})
	return cfg
}

// Client returns a plain SDK client for cfg, for tests that look at the
// bucket directly.
func Client(cfg s3.Config) *awss3.Client {
	return awss3.New(awss3.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		UsePathStyle: cfg.PathStyle,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
	})
}

// deleteBucket aborts the bucket's uploads, deletes its objects and the
// bucket.
func deleteBucket(cfg s3.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := Client(cfg)
	b := aws.String(cfg.Bucket)
	uploads, err := c.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: b})
	if err != nil {
		return fmt.Errorf("list uploads: %w", err)
	}
	for _, u := range uploads.Uploads {
		if _, err := c.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: b, Key: u.Key, UploadId: u.UploadId}); err != nil {
			return fmt.Errorf("abort %s: %w", aws.ToString(u.Key), err)
		}
	}
	p := awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: b})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list objects: %w", err)
		}
		for _, o := range page.Contents {
			if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: b, Key: o.Key}); err != nil {
				return fmt.Errorf("delete %s: %w", aws.ToString(o.Key), err)
			}
		}
	}
	if _, err := c.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: b}); err != nil {
		var nb *types.NoSuchBucket
		if !errors.As(err, &nb) {
			return err
		}
	}
	return nil
}

// startServer returns the configured external endpoint, or starts versitygw.
func startServer() *server {
	if ep := os.Getenv("TEST_S3_ENDPOINT"); ep != "" {
		return &server{
			endpoint:  ep,
			accessKey: os.Getenv("TEST_S3_ACCESS_KEY"),
			secretKey: os.Getenv("TEST_S3_SECRET_KEY"),
			region:    cmp.Or(os.Getenv("TEST_S3_REGION"), region),
		}
	}
	bin, err := findVersitygw()
	if err != nil {
		return &server{err: err, skip: true}
	}
	endpoint, err := startVersitygw(bin)
	if err != nil {
		return &server{err: err}
	}
	return &server{endpoint: endpoint, accessKey: accessKey, secretKey: secretKey, region: region}
}

// findVersitygw looks for the binary on PATH, in $WEUPLOAD_TOOLS_DIR (and its
// bin/) and in $HOME/.cache/weupload/bin.
func findVersitygw() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("WEUPLOAD_TOOLS_DIR"); d != "" {
		// scripts/tools.sh links binaries into $WEUPLOAD_TOOLS_DIR/bin.
		dirs = append(dirs, d, filepath.Join(d, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".cache", "weupload", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not found on PATH, in $WEUPLOAD_TOOLS_DIR or in %s", strings.Join(dirs, ", "))
}

// startVersitygw runs bin on a free loopback port with a fresh root
// directory and waits until it answers HTTP.
func startVersitygw(bin string) (string, error) {
	root, err := newRoot()
	if err != nil {
		return "", err
	}
	return startOn(bin, func(string) []string { return []string{"--quiet", "posix", root} })
}

// startOn runs bin on a free loopback port with "--port ADDR" followed by
// args(port), and waits until it answers HTTP. It returns the endpoint.
func startOn(bin string, args func(port string) []string) (string, error) {
	var lastErr error
	for range 5 { // the free port may be taken between Listen and exec
		port, err := freePort()
		if err != nil {
			return "", err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		exited, err := spawn(bin, append([]string{"--port", addr}, args(strconv.Itoa(port))...))
		if err != nil {
			return "", err
		}
		endpoint := "http://" + addr
		if lastErr = waitReady(endpoint, exited); lastErr == nil {
			return endpoint, nil
		}
	}
	return "", fmt.Errorf("start versitygw: %w", lastErr)
}

// rootPrefix names versitygw root directories; the pid that follows lets a
// later run remove roots whose test binary is gone.
const rootPrefix = "weupload-s3test-"

// newRoot makes a fresh versitygw root directory, first removing those of
// test binaries that have exited.
func newRoot() (string, error) {
	sweepStaleRoots()
	dir, err := os.MkdirTemp("", rootPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return "", fmt.Errorf("versitygw root: %w", err)
	}
	return dir, nil
}

// sweepStaleRoots removes root directories left by test binaries that have
// exited (the server dies with its binary, its directory does not).
func sweepStaleRoots() {
	if _, err := os.Stat("/proc/self"); err != nil {
		return // no /proc to tell live pids from dead ones
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), rootPrefix+"*"))
	for _, d := range dirs {
		pid, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(d), rootPrefix), "-")
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); errors.Is(err, os.ErrNotExist) {
			os.RemoveAll(d)
		}
	}
}

// spawn starts versitygw from a goroutine locked to its OS thread, which
// stays alive for the life of the binary: on Linux, Pdeathsig fires when the
// thread that started the child exits, and this one never does, so the
// server is killed exactly when the test binary exits.
func spawn(bin string, args []string) (exited <-chan error, err error) {
	started := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+accessKey, "ROOT_SECRET_KEY="+secretKey)
		dieWithParent(cmd)
		out := &tailBuffer{max: 4096}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			started <- fmt.Errorf("start %s: %w", bin, err)
			return
		}
		started <- nil
		err := cmd.Wait()
		done <- fmt.Errorf("versitygw exited: %v: %s", err, out.String())
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return done, nil
}

// waitReady polls endpoint until it answers any HTTP response. Redirects
// are not followed: the IAM service sends "/" to a product page on the
// internet.
func waitReady(endpoint string, exited <-chan error) error {
	client := &http.Client{
		Timeout:       time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return err
		default:
		}
		resp, err := client.Get(endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("versitygw at %s did not answer within 30s", endpoint)
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

// Write appends p, dropping the oldest bytes beyond max.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

// String returns what was kept.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
