package s3test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/weupload/weupload/internal/blob/s3"
)

// iamServers are versitygw's standalone IAM service and an S3 gateway that
// authorises every request of a non-root key with it: identity policies,
// with their condition keys (s3:prefix on list requests), as IAM would.
type iamServers struct {
	s3, iam string // endpoints
	err     error  // why there are none
	skip    bool   // err means "not installed"
}

// sharedIAM is the IAM-enforcing pair of this test binary, started on first
// use (a second or two) and killed with the binary, like shared.
var sharedIAM = sync.OnceValue(startIAMServers)

// NewUnderPolicy returns two Configs for a fresh bucket on the IAM-enforcing
// versitygw: root's, which owns the bucket and bypasses policies (for setup
// and for looking behind the user's back), and that of a new user whose only
// permission is the inline identity policy policy(bucket) (an IAM policy
// document). The bucket and its objects are deleted when the test ends.
// Like New, it skips when versitygw is not installed and fails when CI=true;
// TEST_S3_ENDPOINT is not used (the server must enforce IAM).
func NewUnderPolicy(tb testing.TB, policy func(bucket string) []byte) (user, root s3.Config) {
	tb.Helper()
	srv := sharedIAM()
	requireServer(tb, "IAM-enforcing versitygw: ", srv.err, srv.skip)
	root = newBucket(tb, &server{endpoint: srv.s3, accessKey: accessKey, secretKey: secretKey, region: region}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The user is not deleted: the IAM directory lives as long as the
	// test binary, and names are random.
	name := "weupload-" + randomHex(8)
	if _, err := iamCall(ctx, srv.iam, "CreateUser", url.Values{"UserName": {name}}); err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	if _, err := iamCall(ctx, srv.iam, "PutUserPolicy", url.Values{
		"UserName":       {name},
		"PolicyName":     {"policy"},
		"PolicyDocument": {string(policy(root.Bucket))},
	}); err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	body, err := iamCall(ctx, srv.iam, "CreateAccessKey", url.Values{"UserName": {name}})
	if err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	var key struct {
		ID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		Secret string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	if err := xml.Unmarshal(body, &key); err != nil || key.ID == "" || key.Secret == "" {
		tb.Fatalf("s3test: CreateAccessKey answered %q (%v)", body, err)
	}
	user = root
	user.AccessKey, user.SecretKey = key.ID, key.Secret
	return user, root
}

// startIAMServers starts the IAM service (its control plane on a TCP port,
// its private endpoint, which the gateway asks for keys and decisions, on a
// unix socket: TCP would need mutual TLS) and then the gateway.
func startIAMServers() *iamServers {
	bin, err := findVersitygw()
	if err != nil {
		return &iamServers{err: err, skip: true}
	}
	dir, err := newRoot()
	if err != nil {
		return &iamServers{err: err}
	}
	for _, d := range []string{"iam", "s3"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return &iamServers{err: err}
		}
	}
	var socket string
	iamEndpoint, err := startOn(bin, func(port string) []string {
		// One socket per attempt: a failed attempt may leave its own behind.
		socket = filepath.Join(dir, "iam-"+port+".sock")
		return []string{"--quiet", "iam", "--dir", filepath.Join(dir, "iam"), "--private-ports", socket}
	})
	if err != nil {
		return &iamServers{err: fmt.Errorf("IAM service: %w", err)}
	}
	s3Endpoint, err := startOn(bin, func(string) []string {
		return []string{"--quiet", "--iam-standalone-endpoint", socket, "posix", filepath.Join(dir, "s3")}
	})
	if err != nil {
		return &iamServers{err: fmt.Errorf("S3 gateway: %w", err)}
	}
	return &iamServers{s3: s3Endpoint, iam: iamEndpoint}
}

// iamCall makes an IAM query API call as root and returns the response body.
func iamCall(ctx context.Context, endpoint, action string, params url.Values) ([]byte, error) {
	params.Set("Action", action)
	params.Set("Version", "2010-05-08")
	body := params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "iam", region, time.Now()); err != nil {
		return nil, fmt.Errorf("iam %s: sign: %w", action, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("iam %s: %w", action, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("iam %s: %w", action, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("iam %s: %s: %s", action, resp.Status, b)
	}
	return b, nil
}
