package eventsapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// AK/SK signing (SDK-HMAC-SHA256), as Huawei Cloud's API gateway checks it.
const (
	SignAlgorithm        = "SDK-HMAC-SHA256"
	HeaderSdkDate        = "X-Sdk-Date"
	HeaderProjectID      = "X-Project-Id"
	HeaderSecurityToken  = "X-Security-Token"
	HeaderContentSha256  = "X-Sdk-Content-Sha256"
	sdkDateFormat        = "20060102T150405Z"
	maxSignatureBodySize = 8 << 20
)

// NewAKSK returns an Authenticator that signs every request with an access
// key and secret key (SDK-HMAC-SHA256). securityToken is the token of
// temporary credentials, or "" for permanent ones; it is sent as
// X-Security-Token. The Client adds X-Project-Id before signing.
func NewAKSK(accessKey, secretKey, securityToken string) Authenticator {
	return &akskAuth{ak: accessKey, sk: secretKey, securityToken: securityToken, now: time.Now}
}

type akskAuth struct {
	ak, sk, securityToken string
	now                   func() time.Time
}

var (
	_ Authenticator  = (*akskAuth)(nil)
	_ fmt.Formatter  = (*akskAuth)(nil)
	_ slog.LogValuer = (*akskAuth)(nil)
)

// String, GoString, Format and LogValue show the access key only.
func (a *akskAuth) String() string {
	return fmt.Sprintf("eventsapi.AKSK{AccessKey:%q SecretKey:[redacted]}", a.ak)
}
func (a *akskAuth) GoString() string           { return a.String() }
func (a *akskAuth) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }
func (a *akskAuth) LogValue() slog.Value       { return slog.StringValue(a.String()) }

// Authenticate implements Authenticator: it sets X-Sdk-Date (and
// X-Security-Token) and the Authorization header.
func (a *akskAuth) Authenticate(_ context.Context, req *http.Request) error {
	if a.ak == "" || a.sk == "" {
		return errors.New("aksk: access key and secret key are required")
	}
	if a.securityToken != "" {
		req.Header.Set(HeaderSecurityToken, a.securityToken)
	}
	_, err := signRequest(req, a.ak, a.sk, a.now())
	return err
}

// signature holds the intermediate values of one signing, for tests.
type signature struct {
	canonicalRequest string
	stringToSign     string
	signature        string
	authorization    string
}

// signRequest signs req at time t. It signs host and every header already
// set on req (Authorization excepted), sets X-Sdk-Date and Authorization.
func signRequest(req *http.Request, ak, sk string, t time.Time) (signature, error) {
	req.Header.Set(HeaderSdkDate, t.UTC().Format(sdkDateFormat))
	req.Header.Del("Authorization")
	signed := signedHeaders(req.Header)
	payloadHash, err := bodyHash(req)
	if err != nil {
		return signature{}, fmt.Errorf("aksk: %w", err)
	}
	var s signature
	s.canonicalRequest = canonicalRequest(req.Method, req.URL.Path, req.URL.RawQuery, requestHost(req), req.Header, signed, payloadHash)
	s.stringToSign = stringToSign(s.canonicalRequest, req.Header.Get(HeaderSdkDate))
	s.signature = hmacHex(sk, s.stringToSign)
	s.authorization = fmt.Sprintf("%s Access=%s, SignedHeaders=%s, Signature=%s",
		SignAlgorithm, ak, strings.Join(signed, ";"), s.signature)
	req.Header.Set("Authorization", s.authorization)
	return s, nil
}

// requestHost is the Host the request will carry.
func requestHost(req *http.Request) string {
	if req.Host != "" {
		return req.Host
	}
	return req.URL.Host
}

func signedHeaders(h http.Header) []string {
	names := []string{"host"}
	for k := range h {
		lk := strings.ToLower(k)
		if lk == "authorization" || lk == "host" {
			continue
		}
		names = append(names, lk)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// bodyHash returns the hex SHA-256 of the request body (restoring the
// body), or the X-Sdk-Content-Sha256 header when set.
func bodyHash(req *http.Request) (string, error) {
	if v := req.Header.Get(HeaderContentSha256); v != "" {
		return v, nil
	}
	var data []byte
	switch {
	case req.Body == nil || req.Body == http.NoBody:
	case req.GetBody != nil:
		rc, err := req.GetBody()
		if err != nil {
			return "", err
		}
		data, err = readCapped(rc, maxSignatureBodySize, nil)
		rc.Close()
		if err != nil {
			return "", err
		}
	default:
		var err error
		data, err = readCapped(req.Body, maxSignatureBodySize, nil)
		req.Body.Close()
		if err != nil {
			return "", err
		}
		req.Body = io.NopCloser(bytes.NewReader(data))
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// canonicalRequest builds the canonical request: method, canonical URI
// (each path segment escaped, always ending in "/"), canonical query
// (sorted, escaped), canonical headers, signed header names, payload hash.
func canonicalRequest(method, path, rawQuery, host string, h http.Header, signed []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(path))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(rawQuery))
	b.WriteByte('\n')
	lower := make(map[string][]string, len(h))
	for k, v := range h {
		lower[strings.ToLower(k)] = append(lower[strings.ToLower(k)], v...)
	}
	for _, name := range signed {
		vals := lower[name]
		if name == "host" {
			vals = []string{host}
		}
		vals = slices.Clone(vals)
		slices.Sort(vals)
		for _, v := range vals {
			b.WriteString(name)
			b.WriteByte(':')
			b.WriteString(strings.TrimSpace(v))
			b.WriteByte('\n')
		}
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func canonicalURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = signEscape(s)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func canonicalQuery(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		pairs = append(pairs, kv{signEscape(k), signEscape(v)})
	}
	slices.SortStableFunc(pairs, func(a, b kv) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

func queryUnescape(s string) string {
	// Same rules as url.ParseQuery ("+" is a space); on a bad escape keep
	// the text as sent.
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// signEscape percent-encodes everything but RFC 3986 unreserved characters.
func signEscape(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

func stringToSign(canonical, sdkDate string) string {
	sum := sha256.Sum256([]byte(canonical))
	return SignAlgorithm + "\n" + sdkDate + "\n" + hex.EncodeToString(sum[:])
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// Errors of VerifySignedRequest.
var (
	ErrSignatureMissing  = errors.New("aksk: no SDK-HMAC-SHA256 Authorization header")
	ErrSignatureMismatch = errors.New("aksk: signature does not match")
)

// VerifySignedRequest checks an SDK-HMAC-SHA256 signed request the way the
// API gateway does: it parses Authorization, looks up the secret key of the
// access key, recomputes the signature over the received method, path,
// query, signed headers and body, and checks that X-Sdk-Date is within
// maxSkew of now (maxSkew <= 0 skips that check). It serves fakes such as
// eventsapitest; clients do not need it.
func VerifySignedRequest(r *http.Request, body []byte, secretKey func(accessKey string) (string, bool), now time.Time, maxSkew time.Duration) error {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), SignAlgorithm+" ")
	if !ok {
		return ErrSignatureMissing
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(auth, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	ak, signedList, sig := fields["Access"], fields["SignedHeaders"], fields["Signature"]
	if ak == "" || signedList == "" || sig == "" {
		return fmt.Errorf("%w: malformed Authorization header", ErrSignatureMissing)
	}
	sk, ok := secretKey(ak)
	if !ok {
		return fmt.Errorf("aksk: unknown access key %q", ak)
	}
	date := r.Header.Get(HeaderSdkDate)
	t, err := time.Parse(sdkDateFormat, date)
	if err != nil {
		return fmt.Errorf("aksk: bad %s %q", HeaderSdkDate, date)
	}
	if maxSkew > 0 && (now.Sub(t) > maxSkew || t.Sub(now) > maxSkew) {
		return fmt.Errorf("aksk: %s %s is more than %s from now", HeaderSdkDate, date, maxSkew)
	}
	signed := strings.Split(signedList, ";")
	payloadHash := r.Header.Get(HeaderContentSha256)
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	cr := canonicalRequest(r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header, signed, payloadHash)
	want := hmacHex(sk, stringToSign(cr, date))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return ErrSignatureMismatch
	}
	return nil
}
