package s3_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/blob/blobtest"
	"github.com/weupload/weupload/internal/blob/s3"
	"github.com/weupload/weupload/internal/blob/s3test"
)

// instancePolicyFile is the instance role's policy as Terraform's
// modules/compute writes it, rendered with the IAM contract's sample values
// (scripts/infra-check.sh iampolicy proves it is fresh).
const instancePolicyFile = "../../../deploy/aws/instance-policy.json"

// instanceS3Policy returns the S3 statements of the instance role's policy,
// the contract's sample bucket replaced by bucket, as an IAM policy
// document. The other statements (KMS, Secrets Manager, SSM, ECR,
// CloudWatch) are about services versitygw does not have; SSE-KMS in
// particular is AWS's side of a PutObject and is proved by tfpolicy
// iamcontract only.
func instanceS3Policy(tb testing.TB, bucket string) []byte {
	tb.Helper()
	var contract struct {
		Values map[string]string `json:"values"`
	}
	readJSON(tb, contractFile, &contract)
	sample := "arn:" + contract.Values["partition"] + ":s3:::" + contract.Values["bucket"]
	var policy struct {
		Version   string
		Statement []map[string]any
	}
	readJSON(tb, instancePolicyFile, &policy)
	var s3Stmts []map[string]any
	for _, st := range policy.Statement {
		if _, ok := st["NotAction"]; ok {
			tb.Fatalf("%s: statement %v has NotAction; this test cannot tell which services it is about", instancePolicyFile, st["Sid"])
		}
		actions := stringList(st["Action"])
		n := 0
		for _, a := range actions {
			if strings.HasPrefix(a, "s3:") {
				n++
			}
		}
		switch {
		case n == 0:
			continue
		case n < len(actions):
			tb.Fatalf("%s: statement %v mixes S3 and other actions %v; split it so it can be tested on its own", instancePolicyFile, st["Sid"], actions)
		}
		var resources []string
		for _, r := range stringList(st["Resource"]) {
			if r != sample && !strings.HasPrefix(r, sample+"/") {
				tb.Fatalf("%s: statement %v: resource %s is not the sample bucket %s", instancePolicyFile, st["Sid"], r, sample)
			}
			resources = append(resources, "arn:aws:s3:::"+bucket+strings.TrimPrefix(r, sample))
		}
		st["Resource"] = resources
		s3Stmts = append(s3Stmts, st)
	}
	if len(s3Stmts) == 0 {
		tb.Fatalf("%s: no S3 statements", instancePolicyFile)
	}
	policy.Statement = s3Stmts
	b, err := json.Marshal(policy)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// readJSON decodes the JSON file path into v.
func readJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}

// stringList reads an IAM "string or list of strings" value.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// newInstanceRoleStore returns a Store on a fresh bucket of the
// IAM-enforcing versitygw, with the credentials of a user holding only the
// instance role's S3 statements, and root's Config for the same bucket.
func newInstanceRoleStore(tb testing.TB) (*s3.Store, s3.Config, s3.Config) {
	tb.Helper()
	user, root := s3test.NewUnderPolicy(tb, func(bucket string) []byte { return instanceS3Policy(tb, bucket) })
	return mustNew(tb, user), user, root
}

// TestConformanceUnderInstancePolicy runs the conformance suite as a user
// whose permissions are the S3 statements of the instance role, on a server
// that evaluates them like IAM (condition keys included): everything the
// app does with the bucket, readiness probe and presigned URLs (authorised
// as their signer) included, must be allowed.
func TestConformanceUnderInstancePolicy(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _, _ := newInstanceRoleStore(t)
		return s
	})
}

// TestInstancePolicyEnforced checks that the server really enforces the
// policy: what the role does not grant is refused as the user and works as
// root, so the conformance run above proves something.
func TestInstancePolicyEnforced(t *testing.T) {
	s, user, root := newInstanceRoleStore(t)
	ctx := context.Background()
	const outside = "other/x" // a valid key outside blob.KeyPrefix
	rootStore := mustNew(t, root)
	req, err := rootStore.PresignPut(ctx, outside, blob.PutOptions{Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res := blobtest.Do(t, req, []byte("x")); res.Status != http.StatusOK {
		t.Fatalf("root PUT %s: %d %s", outside, res.Status, res.Body)
	}
	uc, rc := s3test.Client(user), s3test.Client(root)
	b := aws.String(user.Bucket)
	tests := []struct {
		name string
		call func(c *awss3.Client) error
	}{
		{"get outside the prefix", func(c *awss3.Client) error {
			out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: b, Key: aws.String(outside)})
			if err == nil {
				out.Body.Close()
			}
			return err
		}},
		{"list multipart uploads", func(c *awss3.Client) error {
			_, err := c.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: b})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(uc); !forbidden(err) {
				t.Errorf("as the instance role: %v, want 403", err)
			}
			if err := tt.call(rc); err != nil {
				t.Errorf("as root: %v, want success", err)
			}
		})
	}
	// Listing the bucket is granted whole (missing keys answer 404, not
	// 403): HeadBucket and a Head of a missing key work as the role.
	if _, err := uc.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: b}); err != nil {
		t.Errorf("HeadBucket as the instance role: %v", err)
	}
	if _, err := s.Head(ctx, blob.KeyPrefix+"missing"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Head of a missing key as the instance role = %v, want blob.ErrNotFound", err)
	}
	t.Run("presigned PUT outside the prefix", func(t *testing.T) {
		req, err := s.PresignPut(ctx, "other/y", blob.PutOptions{Size: 1})
		if err != nil {
			t.Fatal(err)
		}
		if res := blobtest.Do(t, req, []byte("y")); res.Status != http.StatusForbidden {
			t.Errorf("PUT other/y signed by the instance role: %d %s, want 403", res.Status, res.Body)
		}
	})
	t.Run("delete outside the prefix", func(t *testing.T) {
		if err := s.Delete(ctx, outside); !forbidden(err) {
			t.Errorf("Delete(%s) = %v, want 403", outside, err)
		}
		if _, err := rootStore.Head(ctx, outside); err != nil {
			t.Errorf("root Head(%s) after the refused delete: %v", outside, err)
		}
	})
}

// forbidden reports whether err is an HTTP 403 answer.
func forbidden(err error) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden
}
