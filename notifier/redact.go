package notifier

import (
	"errors"
	"net/url"
	"strings"
)

// redactURL strips the URL out of a *url.Error (as alertmanager's
// RedactURL does): webhook URLs carry their credentials in the path.
func redactURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: "<redacted>", Err: ue.Err}
}

// scrubbedError is an error whose text had secrets cut out of it.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrub removes URLs from err and, as a last line of defence, any of the
// secrets (a webhook URL, its path, a token, a signing secret) that still
// appear in its text.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	err = redactURL(err)
	var de *DeliveryError
	if errors.As(err, &de) {
		de.Body = scrubText(de.Body, secrets)
	}
	msg := scrubText(err.Error(), secrets)
	if msg == err.Error() {
		return err
	}
	return &scrubbedError{msg: msg, err: err}
}

// scrubText replaces every secret in s with "<redacted>".
func scrubText(s string, secrets []string) string {
	for _, secret := range secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "<redacted>")
		}
	}
	return s
}

// urlSecrets lists the parts of a destination URL that must never be shown.
func urlSecrets(u *url.URL) []string {
	s := []string{u.String()}
	if u.Path != "" && u.Path != "/" {
		s = append(s, u.Path, strings.TrimPrefix(u.Path, "/"))
	}
	if u.RawQuery != "" {
		s = append(s, u.RawQuery)
	}
	if p, ok := u.User.Password(); ok {
		s = append(s, p)
	}
	return s
}
