package demo

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// The report curls that make run-rie prints: the project report's (a
// payload without service_id, issue 21) and one naming a service of the
// demo; and the emulator's demo keeps its own state (make run's
// checkpoints made it answer that nothing was new).
func TestMakefileRunRIE(t *testing.T) {
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^DEMO_SERVICE := (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("Makefile: no DEMO_SERVICE")
	}
	var ids []string
	for _, s := range services {
		ids = append(ids, s.id)
	}
	if !slices.Contains(ids, string(m[1])) {
		t.Fatalf("Makefile's DEMO_SERVICE %s is not a demo service (%v)", m[1], ids)
	}
	if !regexp.MustCompile(`service_id.*\$\(DEMO_SERVICE\)`).Match(b) {
		t.Fatal("the report curl make run-rie prints does not name $(DEMO_SERVICE)")
	}
	if !regexp.MustCompile(`curl -s -d '\{\\"since\\": \\"24h\\"\}'`).Match(b) {
		t.Fatal(`make run-rie prints no curl for the project report ({"since": "24h"})`)
	}
	if !regexp.MustCompile(`DEMO_STATE_DIR=\$\(RIE_DEMO_DIR\) \$\(RIE\)`).Match(b) {
		t.Fatal("make run-rie does not give the emulator's demo its own DEMO_STATE_DIR")
	}
}
