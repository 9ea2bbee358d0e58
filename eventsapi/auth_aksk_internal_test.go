package eventsapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The published SDK-HMAC-SHA256 example (seeds/aksk-sign-vector.txt).
const (
	vectorAK   = "QTWAOYTTINDUT2QVKYUC"
	vectorSK   = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
	vectorDate = "20191115T033655Z"
	vectorCR   = "GET\n" +
		"/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\n" +
		"limit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n" +
		"content-type:application/json\n" +
		"host:service.region.example.com\n" +
		"x-sdk-date:20191115T033655Z\n" +
		"\n" +
		"content-type;host;x-sdk-date\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	vectorCRHash    = "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
	vectorSignature = "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
)

func vectorRequest(t *testing.T) *http.Request {
	t.Helper()
	// Parameters deliberately out of order: the canonical query sorts them.
	req, err := http.NewRequest(http.MethodGet,
		"https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?marker=13551d6b-755d-4757-b956-536f674975c0&limit=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

func TestAKSKPublishedVector(t *testing.T) {
	when, _ := time.Parse(sdkDateFormat, vectorDate)
	req := vectorRequest(t)
	got, err := signRequest(req, vectorAK, vectorSK, when)
	if err != nil {
		t.Fatal(err)
	}
	if got.canonicalRequest != vectorCR {
		t.Errorf("canonical request:\n%s\nwant:\n%s", got.canonicalRequest, vectorCR)
	}
	sum := sha256.Sum256([]byte(got.canonicalRequest))
	if h := hex.EncodeToString(sum[:]); h != vectorCRHash {
		t.Errorf("sha256(canonical request) = %s, want %s", h, vectorCRHash)
	}
	if want := "SDK-HMAC-SHA256\n" + vectorDate + "\n" + vectorCRHash; got.stringToSign != want {
		t.Errorf("string to sign = %q, want %q", got.stringToSign, want)
	}
	if got.signature != vectorSignature {
		t.Errorf("signature = %s, want %s", got.signature, vectorSignature)
	}
	wantAuth := "SDK-HMAC-SHA256 Access=" + vectorAK + ", SignedHeaders=content-type;host;x-sdk-date, Signature=" + vectorSignature
	if h := req.Header.Get("Authorization"); h != wantAuth {
		t.Errorf("Authorization = %q, want %q", h, wantAuth)
	}
	if h := req.Header.Get("X-Sdk-Date"); h != vectorDate {
		t.Errorf("X-Sdk-Date = %q", h)
	}
}

// TestVerifySignedRequest: what the signer produces, the verifier accepts;
// any change to the signed parts is rejected.
func TestVerifySignedRequest(t *testing.T) {
	when, _ := time.Parse(sdkDateFormat, vectorDate)
	secret := func(ak string) (string, bool) { return vectorSK, ak == vectorAK }
	// A request as a server receives it.
	received := func(t *testing.T, edit func(*http.Request)) *http.Request {
		out := vectorRequest(t)
		if _, err := signRequest(out, vectorAK, vectorSK, when); err != nil {
			t.Fatal(err)
		}
		in, _ := http.NewRequest(out.Method, out.URL.String(), nil)
		in.Header = out.Header.Clone()
		in.Host = out.URL.Host
		if edit != nil {
			edit(in)
		}
		return in
	}
	tests := []struct {
		name    string
		edit    func(*http.Request)
		now     time.Time
		wantErr error
	}{
		{name: "valid", now: when.Add(time.Minute)},
		{name: "query changed", edit: func(r *http.Request) { r.URL.RawQuery = "limit=3&marker=x" }, wantErr: ErrSignatureMismatch},
		{name: "path changed", edit: func(r *http.Request) { r.URL.Path += "x" }, wantErr: ErrSignatureMismatch},
		{name: "host changed", edit: func(r *http.Request) { r.Host = "evil.example.com" }, wantErr: ErrSignatureMismatch},
		{name: "signed header changed", edit: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, wantErr: ErrSignatureMismatch},
		{name: "no signature", edit: func(r *http.Request) { r.Header.Del("Authorization") }, wantErr: ErrSignatureMissing},
		{name: "too old", now: when.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = when
			}
			err := VerifySignedRequest(received(t, tt.edit), nil, secret, now, 15*time.Minute)
			switch {
			case tt.name == "too old":
				if err == nil || !strings.Contains(err.Error(), "from now") {
					t.Errorf("err = %v, want a skew error", err)
				}
			case !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestAKSKSignsBodyAndSecurityToken(t *testing.T) {
	a := NewAKSK("AK", "SK", "sec-token").(*akskAuth)
	a.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	req, _ := http.NewRequest(http.MethodPost, "https://h.example.com/v1/p/x", strings.NewReader(`{"a":1}`))
	req.Header.Set(HeaderProjectID, "p")
	if err := a.Authenticate(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	if !strings.Contains(auth, "SignedHeaders=host;x-project-id;x-sdk-date;x-security-token,") {
		t.Errorf("Authorization = %q", auth)
	}
	if req.Header.Get(HeaderSecurityToken) != "sec-token" || req.Header.Get(HeaderSdkDate) != "20260102T030405Z" {
		t.Errorf("headers = %v", req.Header)
	}
	body := `{"a":1}`
	in, _ := http.NewRequest(http.MethodPost, "https://h.example.com/v1/p/x", nil)
	in.Header, in.Host = req.Header.Clone(), "h.example.com"
	if err := VerifySignedRequest(in, []byte(body), func(string) (string, bool) { return "SK", true }, time.Time{}, 0); err != nil {
		t.Errorf("verify: %v", err)
	}
	if err := VerifySignedRequest(in, []byte(`{"a":2}`), func(string) (string, bool) { return "SK", true }, time.Time{}, 0); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("verify with another body: %v", err)
	}
}

func TestCanonicalEscaping(t *testing.T) {
	if got, want := canonicalURI("/v1/a b/c:d"), "/v1/a%20b/c%3Ad/"; got != want {
		t.Errorf("canonicalURI = %q, want %q", got, want)
	}
	if got, want := canonicalQuery("b=2&a=x+y&a=%2F&c"), "a=%2F&a=x%20y&b=2&c="; got != want {
		t.Errorf("canonicalQuery = %q, want %q", got, want)
	}
}
