// Package s3 is the blob.Store on Amazon S3 (or an S3-compatible server such
// as versitygw), using aws-sdk-go-v2. Clients upload and download with
// presigned URLs, so file bytes never pass through the app; the app itself
// only makes small calls (multipart bookkeeping, HeadObject, DeleteObject)
// and streams objects for share zips.
package s3

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/weupload/weupload/internal/blob"
)

// Config says where the bucket is and how to reach it.
type Config struct {
	// Bucket is the bucket name (required).
	Bucket string
	// Region is the bucket's region; empty means us-east-1.
	Region string
	// Endpoint overrides the S3 endpoint for the app's own calls (e.g.
	// http://127.0.0.1:7070 for versitygw); empty means AWS.
	Endpoint string
	// PathStyle addresses the bucket as endpoint/bucket/key instead of
	// bucket.endpoint/key (needed by most S3-compatible servers).
	PathStyle bool
	// PublicEndpoint is the endpoint browsers use, when it differs from
	// Endpoint (docker compose: the app reaches "http://s3:7070", browsers
	// "http://localhost:7070"). Presigned URLs are signed for this host.
	PublicEndpoint string
	// AccessKey and SecretKey are static credentials; when empty the SDK's
	// default chain is used (environment, shared config, instance role).
	AccessKey, SecretKey string
	// APIOptions are extra smithy stack options for every call and presign
	// of the store, e.g. a test recording which S3 operations the store
	// uses (the IAM contract in deploy/aws/iam-contract.json must list each).
	APIOptions []func(*middleware.Stack) error
}

// Store is a blob.Store on one S3 bucket. It is safe for concurrent use.
type Store struct {
	bucket  string
	client  *s3.Client        // the app's own calls, with retries
	presign *s3.PresignClient // URLs for browsers, signed for PublicEndpoint
}

var _ blob.Store = (*Store)(nil)

// Retry and timeout bounds for the app's own calls: a user waiting on a
// request gets a 503 within a few seconds rather than a hung page.
const (
	maxAttempts           = 3
	maxBackoff            = 2 * time.Second
	responseHeaderTimeout = 30 * time.Second
	dialTimeout           = 5 * time.Second
)

// New makes a Store from cfg. It does not contact S3 (use Ping).
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("blob/s3: bucket is required")
	}
	region := cmp.Or(cfg.Region, "us-east-1")
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
		WithTransportOptions(func(t *http.Transport) { t.ResponseHeaderTimeout = responseHeaderTimeout })
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.MaxBackoff = maxBackoff
			})
		}),
		// Only send checksums we ask for: the SDK's default (CRC32 on every
		// PutObject/UploadPart) would otherwise end up in presigned URLs as
		// headers the browser does not send.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if cfg.AccessKey != "" || cfg.SecretKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("blob/s3: load aws config: %w", err)
	}
	awsCfg.APIOptions = append(awsCfg.APIOptions, cfg.APIOptions...)
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	public := client
	if cfg.PublicEndpoint != "" && cfg.PublicEndpoint != cfg.Endpoint {
		public = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(cfg.PublicEndpoint)
			o.UsePathStyle = cfg.PathStyle
		})
	}
	return &Store{bucket: cfg.Bucket, client: client, presign: s3.NewPresignClient(public)}, nil
}

// PresignPut signs a PutObject for exactly o.Size bytes with Content-Type,
// If-None-Match: * and, when o.SHA256 is set (always for empty objects),
// x-amz-checksum-sha256 as signed headers.
func (s *Store) PresignPut(ctx context.Context, key string, o blob.PutOptions) (blob.Request, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Request{}, fmt.Errorf("blob/s3: presign put: %w", err)
	}
	if err := o.Validate(); err != nil {
		return blob.Request{}, fmt.Errorf("blob/s3: presign put %s: %w", key, err)
	}
	sum := o.SHA256
	if o.Size == 0 && sum == nil {
		// SigV4 does not sign "Content-Length: 0", so an empty upload is
		// pinned by the checksum of zero bytes instead.
		empty := sha256.Sum256(nil)
		sum = empty[:]
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		ContentLength: aws.Int64(o.Size),
		ContentType:   aws.String(contentType(o.ContentType)),
		IfNoneMatch:   aws.String("*"),
	}
	if sum != nil {
		in.ChecksumSHA256 = aws.String(base64.StdEncoding.EncodeToString(sum))
	}
	ttl := blob.TTL(o.TTL, blob.DefaultPutTTL)
	expires := time.Now().Add(ttl)
	optFns := []func(*s3.PresignOptions){s3.WithPresignExpires(ttl)}
	if o.Size == 0 {
		// The SDK's presigner drops Content-Type when Content-Length is 0;
		// put it back so empty objects keep their type like any other.
		optFns = append(optFns, s3.WithPresignClientFromClientOptions(func(so *s3.Options) {
			so.APIOptions = append(so.APIOptions, signHeader("Content-Type", *in.ContentType))
		}))
	}
	req, err := s.presign.PresignPutObject(ctx, in, optFns...)
	if err != nil {
		return blob.Request{}, fmt.Errorf("blob/s3: presign put %s: %w", key, err)
	}
	return toRequest(req.Method, req.URL, req.SignedHeader, expires), nil
}

// CreateMultipart starts a multipart upload. S3 does not record o.Size or
// o.PartSize; they are validated here so both stores refuse the same things.
func (s *Store) CreateMultipart(ctx context.Context, key string, o blob.MultipartOptions) (string, error) {
	if err := blob.ValidateKey(key); err != nil {
		return "", fmt.Errorf("blob/s3: create multipart: %w", err)
	}
	if err := o.Validate(); err != nil {
		return "", fmt.Errorf("blob/s3: create multipart %s: %w", key, err)
	}
	out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:      aws.String(s.bucket),
		Key:         aws.String(key),
		ContentType: aws.String(contentType(o.ContentType)),
	})
	if err != nil {
		return "", wrap("create multipart", key, err)
	}
	return aws.ToString(out.UploadId), nil
}

// PresignPart signs an UploadPart of exactly size bytes (Content-Length is
// a signed header). It does not contact S3, so a wrong upload id shows up
// only when the client uses the URL (404).
func (s *Store) PresignPart(ctx context.Context, key, uploadID string, number int32, size int64, ttl time.Duration) (blob.Request, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Request{}, fmt.Errorf("blob/s3: presign part: %w", err)
	}
	if err := blob.ValidatePart(number, size, ttl); err != nil {
		return blob.Request{}, fmt.Errorf("blob/s3: presign part %s #%d: %w", key, number, err)
	}
	if uploadID == "" {
		return blob.Request{}, fmt.Errorf("blob/s3: presign part %s: %w: empty upload id", key, blob.ErrInvalid)
	}
	ttl = blob.TTL(ttl, blob.DefaultPutTTL)
	expires := time.Now().Add(ttl)
	req, err := s.presign.PresignUploadPart(ctx, &s3.UploadPartInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		UploadId:      aws.String(uploadID),
		PartNumber:    aws.Int32(number),
		ContentLength: aws.Int64(size),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return blob.Request{}, fmt.Errorf("blob/s3: presign part %s #%d: %w", key, number, err)
	}
	return toRequest(req.Method, req.URL, req.SignedHeader, expires), nil
}

// ListParts lists the stored parts of an upload, all pages, ordered by number.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]blob.Part, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, fmt.Errorf("blob/s3: list parts: %w", err)
	}
	if uploadID == "" {
		return nil, fmt.Errorf("blob/s3: list parts %s: %w: empty upload id", key, blob.ErrNotFound)
	}
	var parts []blob.Part
	p := s3.NewListPartsPaginator(s.client, &s3.ListPartsInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(key),
		UploadId: aws.String(uploadID),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap("list parts", key, err)
		}
		for _, pt := range page.Parts {
			parts = append(parts, blob.Part{
				Number: aws.ToInt32(pt.PartNumber),
				ETag:   aws.ToString(pt.ETag),
				Size:   aws.ToInt64(pt.Size),
			})
		}
	}
	slices.SortFunc(parts, func(a, b blob.Part) int { return cmp.Compare(a.Number, b.Number) })
	return parts, nil
}

// CompleteMultipart checks parts against ListParts (numbers 1..n without
// gaps, ETags equal, sizes equal where given) and completes the upload.
// S3 itself would accept any subset of the stored parts; the check makes it
// refuse the same part lists as the disk store, with an error wrapping
// blob.ErrInvalid, before anything is assembled.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []blob.Part) error {
	if err := blob.ValidateKey(key); err != nil {
		return fmt.Errorf("blob/s3: complete multipart: %w", err)
	}
	parts, err := blob.SortParts(parts)
	if err != nil {
		return fmt.Errorf("blob/s3: complete multipart %s: %w", key, err)
	}
	stored, err := s.ListParts(ctx, key, uploadID)
	if err != nil {
		return fmt.Errorf("blob/s3: complete multipart: %w", err)
	}
	byNumber := make(map[int32]blob.Part, len(stored))
	for _, p := range stored {
		byNumber[p.Number] = p
	}
	completed := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		sp, ok := byNumber[p.Number]
		switch {
		case !ok:
			return fmt.Errorf("blob/s3: complete multipart %s: %w: part %d not uploaded", key, blob.ErrInvalid, p.Number)
		case blob.TrimETag(sp.ETag) != blob.TrimETag(p.ETag):
			return fmt.Errorf("blob/s3: complete multipart %s: %w: part %d etag %s, stored %s", key, blob.ErrInvalid, p.Number, p.ETag, sp.ETag)
		case p.Size != 0 && p.Size != sp.Size:
			return fmt.Errorf("blob/s3: complete multipart %s: %w: part %d size %d, stored %d", key, blob.ErrInvalid, p.Number, p.Size, sp.Size)
		}
		completed[i] = types.CompletedPart{PartNumber: aws.Int32(p.Number), ETag: aws.String(sp.ETag)}
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(key),
		UploadId:        aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	})
	if err != nil {
		return wrap("complete multipart", key, err)
	}
	return nil
}

// AbortMultipart discards an upload; a missing upload is not an error.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	if err := blob.ValidateKey(key); err != nil {
		return fmt.Errorf("blob/s3: abort multipart: %w", err)
	}
	if uploadID == "" {
		return nil
	}
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(key),
		UploadId: aws.String(uploadID),
	})
	if err = wrap("abort multipart", key, err); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	return nil
}

// Head reads an object's metadata with checksum mode enabled and returns its
// SHA-256 when S3 has a full-object one (single PUT with a digest).
func (s *Store) Head(ctx context.Context, key string) (blob.Object, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Object{}, fmt.Errorf("blob/s3: head: %w", err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket:       aws.String(s.bucket),
		Key:          aws.String(key),
		ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil {
		return blob.Object{}, wrap("head", key, err)
	}
	obj := blob.Object{
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		ETag:        aws.ToString(out.ETag),
	}
	// A composite checksum ("<b64>-<parts>", type COMPOSITE) is a digest of
	// part digests, not of the object: report it as unknown.
	if c := aws.ToString(out.ChecksumSHA256); c != "" && out.ChecksumType != types.ChecksumTypeComposite && !strings.Contains(c, "-") {
		if sum, err := base64.StdEncoding.DecodeString(c); err == nil && len(sum) == sha256.Size {
			obj.SHA256 = sum
		}
	}
	return obj, nil
}

// Get streams an object; the caller closes the body.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, fmt.Errorf("blob/s3: get: %w", err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	})
	if err != nil {
		return nil, wrap("get", key, err)
	}
	return out.Body, nil
}

// PresignGet signs a GetObject that answers with
// response-content-disposition = blob.ContentDisposition(o.Filename) and
// response-content-type = blob.SafeContentType(o.ContentType).
func (s *Store) PresignGet(ctx context.Context, key string, o blob.GetOptions) (string, error) {
	if err := blob.ValidateKey(key); err != nil {
		return "", fmt.Errorf("blob/s3: presign get: %w", err)
	}
	if o.TTL < 0 || o.TTL > blob.MaxTTL {
		return "", fmt.Errorf("blob/s3: presign get %s: %w: ttl %s out of range", key, blob.ErrInvalid, o.TTL)
	}
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     aws.String(s.bucket),
		Key:                        aws.String(key),
		ResponseContentDisposition: aws.String(blob.ContentDisposition(o.Filename)),
		ResponseContentType:        aws.String(blob.SafeContentType(o.ContentType)),
	}, s3.WithPresignExpires(blob.TTL(o.TTL, blob.DefaultGetTTL)))
	if err != nil {
		return "", fmt.Errorf("blob/s3: presign get %s: %w", key, err)
	}
	return req.URL, nil
}

// Delete removes an object; a missing object is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return fmt.Errorf("blob/s3: delete: %w", err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(key),
	})
	if err = wrap("delete", key, err); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	return nil
}

// listPage is how many keys one ListObjectsV2 call asks for (S3's most).
const listPage = 1000

// List pages through ListObjectsV2 (key order), one page in memory at a
// time.
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[blob.ObjectInfo, error] {
	return func(yield func(blob.ObjectInfo, error) bool) {
		pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
			Bucket:  aws.String(s.bucket),
			Prefix:  aws.String(prefix),
			MaxKeys: aws.Int32(listPage),
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				yield(blob.ObjectInfo{}, wrap("list", prefix, err))
				return
			}
			for _, o := range page.Contents {
				info := blob.ObjectInfo{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified)}
				if !yield(info, nil) {
					return
				}
			}
		}
	}
}

// Ping checks that the bucket is reachable and the app may use it: a one-key
// ListObjectsV2 under blob.KeyPrefix, a call the app itself makes (orphan
// reconciliation), so a role that lost it is not ready. It is the probe the
// instance role's IAM contract (deploy/aws/iam-contract.json) lists.
// Every failure, including a missing bucket or denied access, wraps
// blob.ErrUnavailable: the instance is not ready.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:  aws.String(s.bucket),
		Prefix:  aws.String(blob.KeyPrefix),
		MaxKeys: aws.Int32(1),
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("blob/s3: ping %s: %w", s.bucket, err)
		}
		return fmt.Errorf("blob/s3: ping %s: %w: %w", s.bucket, blob.ErrUnavailable, err)
	}
	return nil
}

// corsMaxAge is how long browsers may cache a preflight answer.
const corsMaxAge = 3600

// EnsureBucket creates the bucket if it does not exist and, when
// allowedOrigins is not empty, sets a CORS rule letting those origins PUT,
// GET and HEAD with any header and read the ETag (the upload script needs
// it for multipart). It is for development and tests; production buckets
// are made by Terraform.
func (s *Store) EnsureBucket(ctx context.Context, allowedOrigins []string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(s.bucket)}
	if r := s.client.Options().Region; r != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(r),
		}
	}
	if _, err := s.client.CreateBucket(ctx, in); err != nil {
		var owned *types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) && apiCode(err) != "BucketAlreadyOwnedByYou" {
			return wrap("create bucket", s.bucket, err)
		}
	}
	if len(allowedOrigins) == 0 {
		return nil
	}
	_, err := s.client.PutBucketCors(ctx, &s3.PutBucketCorsInput{
		Bucket: aws.String(s.bucket),
		CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{{
			AllowedMethods: []string{http.MethodPut, http.MethodGet, http.MethodHead},
			AllowedOrigins: allowedOrigins,
			AllowedHeaders: []string{"*"},
			ExposeHeaders:  []string{"ETag"},
			MaxAgeSeconds:  aws.Int32(corsMaxAge),
		}}},
	})
	if err != nil {
		return wrap("put bucket cors", s.bucket, err)
	}
	return nil
}

// signHeader returns a stack option setting header name to value just
// before signing (the start of the Finalize step), after the Build step's
// middlewares have run.
func signHeader(name, value string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("weupload.SignHeader."+name,
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					req.Header.Set(name, value)
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.Before)
	}
}

// toRequest turns a presigned request into a blob.Request, listing the
// signed headers the client must send. Host and Content-Length are left
// out: the client's HTTP stack sets them from the URL and the body.
func toRequest(method, url string, signed http.Header, expires time.Time) blob.Request {
	h := make(map[string]string, len(signed))
	for k, v := range signed {
		ck := http.CanonicalHeaderKey(k)
		if ck == "Host" || ck == "Content-Length" {
			continue
		}
		h[headerName(ck)] = strings.Join(v, ",")
	}
	return blob.Request{Method: method, URL: url, Header: h, Expires: expires.Truncate(time.Second)}
}

// headerName spells S3's own headers in lower case, as S3 documents them.
func headerName(canonical string) string {
	if strings.HasPrefix(canonical, "X-Amz-") {
		return strings.ToLower(canonical)
	}
	return canonical
}

// contentType returns ct or the default for unknown content.
func contentType(ct string) string {
	return cmp.Or(ct, "application/octet-stream")
}

// apiCode returns the S3 error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// wrap adds context to err and classifies it: missing objects and uploads
// wrap blob.ErrNotFound, network failures, timeouts, throttling and 5xx
// answers wrap blob.ErrUnavailable, refused part lists wrap blob.ErrInvalid.
// It returns nil for a nil err.
func wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if kind := classify(err); kind != nil {
		return fmt.Errorf("blob/s3: %s %s: %w: %w", op, key, kind, err)
	}
	return fmt.Errorf("blob/s3: %s %s: %w", op, key, err)
}

// classify returns the blob sentinel err belongs to, or nil.
func classify(err error) error {
	switch apiCode(err) {
	case "NoSuchKey", "NotFound", "NoSuchUpload":
		return blob.ErrNotFound
	case "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "EntityTooLarge", "InvalidArgument", "InvalidRequest":
		return blob.ErrInvalid
	case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling", "ThrottlingException":
		return blob.ErrUnavailable
	}
	// A ResponseError with status 0 means no response (the request could
	// not be sent): fall through to the network checks.
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		switch code := re.HTTPStatusCode(); {
		case code == http.StatusNotFound:
			return blob.ErrNotFound
		case code >= 500 || code == http.StatusTooManyRequests:
			return blob.ErrUnavailable
		}
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) {
		return blob.ErrUnavailable
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return blob.ErrUnavailable
	}
	return nil
}
