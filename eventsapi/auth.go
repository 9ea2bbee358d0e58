package eventsapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// Authenticator adds credentials to a request just before it is sent. It
// is called once per attempt, so it may fetch or refresh a token; it must
// be safe for concurrent use. Implementations must not reveal secrets
// through fmt or log/slog.
type Authenticator interface {
	Authenticate(ctx context.Context, req *http.Request) error
}

// TokenInvalidator is implemented by Authenticators whose token can be
// refreshed. When the API rejects a token with a token error code (see
// IsTokenErrorCode) the Client calls InvalidateToken with the rejected
// token and sends the request once more. Invalidating a token that has
// already been replaced must do nothing, so that many requests failing at
// once cause a single refresh.
type TokenInvalidator interface {
	InvalidateToken(token string)
}

// HeaderAuthToken is the header carrying a token.
const HeaderAuthToken = "X-Auth-Token"

// StaticToken returns an Authenticator that sends token as X-Auth-Token on
// every request. A rejected static token is not refreshed.
func StaticToken(token string) Authenticator { return &staticToken{token: token} }

type staticToken struct{ token string }

var (
	_ Authenticator  = (*staticToken)(nil)
	_ fmt.Formatter  = (*staticToken)(nil)
	_ slog.LogValuer = (*staticToken)(nil)
)

func (a *staticToken) Authenticate(_ context.Context, req *http.Request) error {
	if a.token == "" {
		return fmt.Errorf("static token: empty token")
	}
	req.Header.Set(HeaderAuthToken, a.token)
	return nil
}

// String, GoString, Format and LogValue never show the token.
func (a *staticToken) String() string             { return "eventsapi.StaticToken([redacted])" }
func (a *staticToken) GoString() string           { return a.String() }
func (a *staticToken) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }
func (a *staticToken) LogValue() slog.Value       { return slog.StringValue(a.String()) }
