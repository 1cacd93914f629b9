package s3_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/blob/blobtest"
	"github.com/weupload/weupload/internal/blob/s3test"
	"github.com/weupload/weupload/internal/testenv"
)

// contractFile lists every AWS call made with the instance role; tfpolicy
// iamcontract proves the role allows each one (docs/deploy.md).
const contractFile = "../../../deploy/aws/iam-contract.json"

// contractCall is the part of a contract entry this test reads.
type contractCall struct {
	Source   string            `json:"source"`
	API      string            `json:"api"`
	Resource string            `json:"resource"`
	Context  map[string]string `json:"context"`
}

// appS3Calls returns the contract's entries for the app's own S3 calls
// (source "app", api "s3:<Operation>").
func appS3Calls(tb testing.TB) []contractCall {
	tb.Helper()
	b, err := os.ReadFile(contractFile)
	if err != nil {
		tb.Fatal(err)
	}
	var c struct {
		Calls []contractCall `json:"calls"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		tb.Fatalf("%s: %v", contractFile, err)
	}
	var out []contractCall
	for _, call := range c.Calls {
		if call.Source == "app" && strings.HasPrefix(call.API, "s3:") {
			out = append(out, call)
		}
	}
	if len(out) == 0 {
		tb.Fatalf("%s lists no S3 calls of the app", contractFile)
	}
	return out
}

// opRecorder is a smithy stack option that records the operation name of
// every call and presign of a client.
type opRecorder struct {
	mu  sync.Mutex
	ops map[string]int
}

func (r *opRecorder) option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("weupload.RecordOperation",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			r.mu.Lock()
			r.ops[awsmiddleware.GetOperationName(ctx)]++
			r.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// TestContractCoversS3Calls runs the conformance suite (which exercises every
// method of the store, presigned URLs included) and checks that each S3
// operation the store sent is in the IAM contract, and that the contract
// lists no app S3 call the store never makes.
func TestContractCoversS3Calls(t *testing.T) {
	calls := appS3Calls(t)
	rec := &opRecorder{ops: map[string]int{}}
	t.Run("conformance", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) blob.Store {
			cfg := s3test.New(t)
			cfg.APIOptions = []func(*middleware.Stack) error{rec.option}
			return mustNew(t, cfg)
		})
	})
	if len(rec.ops) == 0 {
		testenv.Missing(t, "an S3 server", "no S3 calls were recorded; install versitygw (scripts/tools.sh)")
	}
	listed := map[string]bool{}
	for _, c := range calls {
		listed[strings.TrimPrefix(c.API, "s3:")] = true
	}
	var recorded []string
	for op := range rec.ops {
		recorded = append(recorded, op)
		if !listed[op] {
			t.Errorf("the store calls S3 %s, which %s does not list: add it (with its IAM action and resource) and run scripts/infra-check.sh iamcontract", op, contractFile)
		}
	}
	slices.Sort(recorded)
	for op := range listed {
		if rec.ops[op] == 0 {
			t.Errorf("%s lists S3 %s for the app, but the store never called it (recorded: %v)", contractFile, op, recorded)
		}
	}
}

// TestContractKeyPrefix checks that the contract's object ARNs and list
// prefixes are the ones the app uses (blob.KeyPrefix); tfpolicy iamcontract
// then proves the Terraform policy allows exactly those.
func TestContractKeyPrefix(t *testing.T) {
	const bucketARN = "arn:${partition}:s3:::${bucket}"
	for _, c := range appS3Calls(t) {
		switch {
		case c.API == "s3:ListObjectsV2":
			if c.Resource != bucketARN || c.Context["s3:prefix"] != blob.KeyPrefix {
				t.Errorf("contract %s: resource %s, s3:prefix %q; the store lists %s with prefix %q", c.API, c.Resource, c.Context["s3:prefix"], bucketARN, blob.KeyPrefix)
			}
		case !strings.HasPrefix(c.Resource, bucketARN+"/"+blob.KeyPrefix):
			t.Errorf("contract %s: resource %s is not under %s/%s", c.API, c.Resource, bucketARN, blob.KeyPrefix)
		}
	}
}
