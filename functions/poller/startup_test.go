package main

import (
	"bytes"
	"context"
	"testing"
)

// Regression (issue 17): configuration errors came one at a time. The
// poller with an empty environment names everything missing at once.
func TestEmptyEnvironmentOneMessage(t *testing.T) {
	cleanEnv(t)
	err := realMain(context.Background(), nil, &bytes.Buffer{}, &bytes.Buffer{})
	const want = "configuration: 2 problems:\n" +
		"  MODELARTS_PROJECT_ID: required, not set\n" +
		"  MODELARTS_TOKEN: no ModelArts credentials: set MODELARTS_TOKEN, or HUAWEICLOUD_DOMAIN_NAME + HUAWEICLOUD_USERNAME + HUAWEICLOUD_PASSWORD, or HUAWEICLOUD_ACCESS_KEY + HUAWEICLOUD_SECRET_KEY"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}
