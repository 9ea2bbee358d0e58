package notifier

// How the chat platforms say no: Feishu, DingTalk and WeCom answer most
// refusals with a 200 and a code in the body; the shared reading of such
// an answer, and the error it makes.

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// PlatformError is an answer in which a chat platform refused a message in
// its own words: Feishu's "code", or DingTalk's or WeCom's "errcode", other
// than 0, whatever the HTTP status (they answer 200 for most refusals, and
// Feishu 400 for some). It never holds a URL, a token or a secret.
type PlatformError struct {
	// Platform is "feishu", "dingtalk" or "wecom".
	Platform string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the platform's error code, e.g. DingTalk's 130101.
	Code int
	// Msg is the platform's message (at most 512 bytes, valid UTF-8).
	Msg string
	// RateLimited: the code is one the platform documents as "too many
	// messages"; the destination pauses and retries.
	RateLimited bool
	// Busy: the code says the platform is busy (-1); retried like a 5xx.
	Busy bool
}

func (e *PlatformError) Error() string {
	s := fmt.Sprintf("status %d: %s code %d", e.StatusCode, e.Platform, e.Code)
	if e.Msg != "" {
		s += fmt.Sprintf(": %q", e.Msg)
	}
	if e.RateLimited {
		s += " (rate limited)"
	}
	return s
}

// Verdict is the retry decision for the error: Retry when the platform is
// rate limiting or busy, Permanent for every other code (a bad signature, a
// missing keyword, an invalid token, a malformed message, ...).
func (e *PlatformError) Verdict() Verdict {
	if e.RateLimited || e.Busy {
		return Retry
	}
	return Permanent
}

// asAttemptError is how a PlatformError goes back to the shared retry loop:
// as it is when it is worth retrying (the loop retries any error that is
// neither a *DeliveryError nor marked permanent), marked permanent otherwise.
func (e *PlatformError) asAttemptError() error {
	if e.Verdict() == Retry {
		return e
	}
	return permanent(e)
}

// rateLimited reports whether err is a platform's "too many messages"
// answer: the destination is busy, not down, and the rest of a batch goes
// on (paced) rather than failing with ErrDestinationDown.
func rateLimited(err error) bool {
	var pe *PlatformError
	return errors.As(err, &pe) && pe.RateLimited
}

// codeAnswer is what a platform's JSON answer says: its code, when the body
// had one, and its message.
type codeAnswer struct {
	code *int
	msg  string
}

// judgeAnswer is the shared decision for a platform that reports in a JSON
// code: a 2xx whose code is 0 is delivered; a 2xx whose code is not 0 is a
// *PlatformError (retried when class says it is rate limiting or busy); a
// 2xx without a code is not the platform's answer (a proxy's page?) and
// fails permanently. Any other status is a *DeliveryError as for every
// destination ([Classify]: 429 and 5xx retried, with Retry-After), except
// that a 4xx carrying a rate-limit code (Feishu answers 400 with 9499) is
// retried as the PlatformError it is.
func judgeAnswer(platform string, status int, raw []byte, h http.Header, now time.Time, a codeAnswer, class func(code int) (rateLimited, busy bool)) error {
	if Classify(status) == Delivered {
		if a.code == nil {
			return permanent(&DeliveryError{StatusCode: status, Body: "not a " + platform + " answer: " + readBounded(bytes.NewReader(raw))})
		}
		if *a.code == 0 {
			return nil
		}
		return platformError(platform, status, *a.code, a.msg, class).asAttemptError()
	}
	if Classify(status) == Permanent && a.code != nil && *a.code != 0 {
		if pe := platformError(platform, status, *a.code, a.msg, class); pe.RateLimited {
			return pe
		}
	}
	return statusAnswer(status, raw, h, now)
}

func platformError(platform string, status, code int, msg string, class func(int) (bool, bool)) *PlatformError {
	msg, _ = cutBytes(strings.TrimSpace(msg), maxErrorBody)
	rl, busy := class(code)
	return &PlatformError{Platform: platform, StatusCode: status, Code: code, Msg: msg, RateLimited: rl, Busy: busy}
}
