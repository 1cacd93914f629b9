package disk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/weupload/weupload/internal/blob"
)

// Query parameters of signed URLs. Every parameter but the signature is
// signed, so none can be added, removed or changed.
const (
	paramExpires     = "expires"                      // unix seconds
	paramLength      = "length"                       // exact body length (PUT)
	paramContentType = "content-type"                 // required Content-Type header (object PUT)
	paramSHA256      = "sha256"                       // hex digest the body must have (object PUT)
	paramUploadID    = "uploadId"                     // multipart upload (part PUT)
	paramPartNumber  = "partNumber"                   // 1-based part number (part PUT)
	paramDisposition = "response-content-disposition" // GET
	paramRespType    = "response-content-type"        // GET
	paramSignature   = "signature"
)

// headerChecksum is the header carrying the body's base64 SHA-256, named as
// on S3 so clients send the same headers to both stores.
const headerChecksum = "x-amz-checksum-sha256"

// urlPrefix is the path Handler serves.
const urlPrefix = "/blob/"

// signatureVersion starts every string to sign, so a future format cannot
// be confused with this one.
const signatureVersion = "weupload-blob-v1"

// sign returns the URL for method and key with the signed parameters q.
func (s *Store) sign(method, key string, q url.Values) string {
	enc := q.Encode()
	return s.baseURL + urlPrefix + escapeKey(key) + "?" + enc + "&" + paramSignature + "=" + s.mac(method, key, enc)
}

// mac is the base64url HMAC-SHA256 over method, key and the encoded
// (sorted) signed parameters.
func (s *Store) mac(method, key, encodedQuery string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(signatureVersion + "\n" + method + "\n" + key + "\n" + encodedQuery))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// escapeKey escapes each segment of key for a URL path.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// Reasons a signed request is refused.
var (
	errNoKey     = errors.New("not a blob URL")
	errSignature = errors.New("signature does not match")
	errExpired   = errors.New("request has expired")
)

// verify checks r's signature (constant-time) and expiry and returns the key
// and the signed parameters.
func (s *Store) verify(r *http.Request) (string, url.Values, error) {
	key, ok := strings.CutPrefix(r.URL.Path, urlPrefix)
	if !ok || blob.ValidateKey(key) != nil {
		return "", nil, errNoKey
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil || len(q[paramSignature]) != 1 {
		return "", nil, errSignature
	}
	got, err := base64.RawURLEncoding.DecodeString(q.Get(paramSignature))
	if err != nil {
		return "", nil, errSignature
	}
	q.Del(paramSignature)
	want, _ := base64.RawURLEncoding.DecodeString(s.mac(r.Method, key, q.Encode()))
	if !hmac.Equal(got, want) {
		return "", nil, errSignature
	}
	exp, err := strconv.ParseInt(q.Get(paramExpires), 10, 64)
	if err != nil {
		return "", nil, errSignature
	}
	if s.now().Unix() > exp {
		return "", nil, errExpired
	}
	return key, q, nil
}

// b64 is the standard base64 of b (as in x-amz-checksum-sha256).
func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
