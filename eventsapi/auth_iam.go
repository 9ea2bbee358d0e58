package eventsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// IAMConfig configures NewIAMPasswordAuth: a project-scoped IAM user token
// obtained with a password (POST {Endpoint}/v3/auth/tokens).
type IAMConfig struct {
	// Endpoint is the IAM base URL, e.g. DefaultIAMEndpoint("cn-north-4").
	// http:// is refused unless the host is loopback.
	Endpoint string
	// DomainName is the account (domain) the IAM user belongs to.
	DomainName string
	Username   string
	// Password is secret: it never appears in fmt, log or JSON output.
	Password  string `json:"-"`
	ProjectID string
	// HTTPClient is optional (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// RefreshBefore is how long before expiry a cached token is replaced
	// (default 1 h, never more than half the token's lifetime).
	RefreshBefore time.Duration
}

// String, GoString, Format and LogValue never show the password.
func (c IAMConfig) String() string {
	return fmt.Sprintf("eventsapi.IAMConfig{Endpoint:%q DomainName:%q Username:%q Password:[redacted] ProjectID:%q}",
		c.Endpoint, c.DomainName, c.Username, c.ProjectID)
}
func (c IAMConfig) GoString() string           { return c.String() }
func (c IAMConfig) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }
func (c IAMConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint),
		slog.String("domain_name", c.DomainName),
		slog.String("username", c.Username),
		slog.String("project_id", c.ProjectID),
	)
}

const (
	defaultRefreshBefore = time.Hour
	// fallbackTokenLife is assumed when IAM omits or garbles expires_at.
	fallbackTokenLife = time.Hour
	iamFetchTimeout   = 30 * time.Second
	maxIAMBody        = 1 << 20
)

// NewIAMPasswordAuth returns an Authenticator that logs in to IAM with a
// password, caches the project-scoped token, replaces it ahead of expiry,
// fetches it once for any number of concurrent callers, and implements
// TokenInvalidator so that a token the API rejects is fetched again.
func NewIAMPasswordAuth(cfg IAMConfig) (Authenticator, error) {
	u, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("iam endpoint: %w", err)
	}
	for _, f := range []struct{ name, v string }{
		{"domain name", cfg.DomainName}, {"username", cfg.Username},
		{"password", cfg.Password}, {"project id", cfg.ProjectID},
	} {
		if strings.TrimSpace(f.v) == "" {
			return nil, fmt.Errorf("iam: %s is required", f.name)
		}
	}
	if err := validateID("project", cfg.ProjectID); err != nil {
		return nil, fmt.Errorf("iam: %w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: iamFetchTimeout}
	}
	rb := cfg.RefreshBefore
	if rb <= 0 {
		rb = defaultRefreshBefore
	}
	base := strings.TrimSuffix(strings.TrimSuffix(u.String(), "/"), "/v3")
	return &iamAuth{
		cfg:           cfg,
		tokenURL:      base + "/v3/auth/tokens",
		hc:            hc,
		refreshBefore: rb,
		now:           time.Now,
	}, nil
}

type iamAuth struct {
	cfg           IAMConfig
	tokenURL      string
	hc            *http.Client
	refreshBefore time.Duration
	now           func() time.Time

	mu        sync.Mutex
	token     string
	expiresAt time.Time
	refreshAt time.Time
	inflight  *tokenCall
}

// tokenCall is one IAM login shared by every caller that needs it.
type tokenCall struct {
	done  chan struct{}
	token string
	err   error
}

var (
	_ Authenticator    = (*iamAuth)(nil)
	_ TokenInvalidator = (*iamAuth)(nil)
	_ fmt.Formatter    = (*iamAuth)(nil)
	_ slog.LogValuer   = (*iamAuth)(nil)
)

func (a *iamAuth) String() string {
	return fmt.Sprintf("eventsapi.IAMPasswordAuth{Endpoint:%q DomainName:%q Username:%q Password:[redacted]}",
		a.cfg.Endpoint, a.cfg.DomainName, a.cfg.Username)
}
func (a *iamAuth) GoString() string           { return a.String() }
func (a *iamAuth) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }
func (a *iamAuth) LogValue() slog.Value       { return slog.StringValue(a.String()) }

// Authenticate implements Authenticator.
func (a *iamAuth) Authenticate(ctx context.Context, req *http.Request) error {
	tok, err := a.Token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set(HeaderAuthToken, tok)
	return nil
}

// InvalidateToken implements TokenInvalidator.
func (a *iamAuth) InvalidateToken(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if token != "" && token == a.token {
		a.token = ""
	}
}

// Token returns a valid token, logging in to IAM when none is cached or the
// cached one is due for refresh. Concurrent callers share one login.
func (a *iamAuth) Token(ctx context.Context) (string, error) {
	a.mu.Lock()
	now := a.now()
	if a.token != "" && now.Before(a.refreshAt) {
		tok := a.token
		a.mu.Unlock()
		return tok, nil
	}
	call := a.inflight
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		a.inflight = call
		// The login outlives any one caller's cancellation: others wait
		// on it too. It is still bounded by its own timeout.
		fetchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), iamFetchTimeout)
		go func() {
			defer cancel()
			a.finish(call, a.fetch(fetchCtx))
		}()
	}
	a.mu.Unlock()

	select {
	case <-call.done:
		return call.token, call.err
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

type fetchedToken struct {
	token     string
	expiresAt time.Time
	err       error
}

func (a *iamAuth) finish(call *tokenCall, ft fetchedToken) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inflight = nil
	now := a.now()
	switch {
	case ft.err == nil:
		life := ft.expiresAt.Sub(now)
		a.token, a.expiresAt = ft.token, ft.expiresAt
		a.refreshAt = ft.expiresAt.Add(-min(a.refreshBefore, life/2))
		call.token = ft.token
	case a.token != "" && now.Before(a.expiresAt):
		// The refresh failed but the cached token has not expired yet:
		// keep using it and try again on the next call.
		call.token = a.token
	default:
		call.err = ft.err
	}
	close(call.done)
}

// fetch logs in to IAM once.
func (a *iamAuth) fetch(ctx context.Context) fetchedToken {
	var body struct {
		Auth struct {
			Identity struct {
				Methods  []string `json:"methods"`
				Password struct {
					User struct {
						Name     string `json:"name"`
						Password string `json:"password"`
						Domain   struct {
							Name string `json:"name"`
						} `json:"domain"`
					} `json:"user"`
				} `json:"password"`
			} `json:"identity"`
			Scope struct {
				Project struct {
					ID string `json:"id"`
				} `json:"project"`
			} `json:"scope"`
		} `json:"auth"`
	}
	body.Auth.Identity.Methods = []string{"password"}
	body.Auth.Identity.Password.User.Name = a.cfg.Username
	body.Auth.Identity.Password.User.Password = a.cfg.Password
	body.Auth.Identity.Password.User.Domain.Name = a.cfg.DomainName
	body.Auth.Scope.Project.ID = a.cfg.ProjectID
	payload, err := json.Marshal(body)
	if err != nil {
		return fetchedToken{err: fmt.Errorf("iam token: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.tokenURL, bytes.NewReader(payload))
	if err != nil {
		return fetchedToken{err: fmt.Errorf("iam token: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json;charset=utf8")
	req.Header.Set("Accept", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fetchedToken{err: fmt.Errorf("iam token: %w", redactURLError(err))}
		}
		return fetchedToken{err: fmt.Errorf("iam token: %w", &unreachableError{endpoint: strings.TrimRight(a.cfg.Endpoint, "/"), err: redactURLError(err)})}
	}
	defer drainClose(resp.Body)
	data, err := readCapped(resp.Body, maxIAMBody, nil)
	if err != nil {
		return fetchedToken{err: fmt.Errorf("iam token: read response: %w", err)}
	}
	if resp.StatusCode/100 != 2 {
		// IAM may echo the request body, password included, in its error.
		return fetchedToken{err: fmt.Errorf("iam token for user %q: %w", a.cfg.Username, newAPIError(resp, data, a.now(), a.cfg.Password))}
	}
	tok := resp.Header.Get("X-Subject-Token")
	if tok == "" {
		return fetchedToken{err: errors.New("iam token: response has no X-Subject-Token header")}
	}
	var doc struct {
		Token struct {
			ExpiresAt string `json:"expires_at"`
		} `json:"token"`
	}
	exp := a.now().Add(fallbackTokenLife)
	if json.Unmarshal(data, &doc) == nil {
		if t, err := time.Parse(time.RFC3339Nano, doc.Token.ExpiresAt); err == nil {
			exp = t
		}
	}
	return fetchedToken{token: tok, expiresAt: exp}
}
