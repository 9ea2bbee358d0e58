package notifier

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// A stall notification says how long the phase usually takes, from how
// many deployments, and how the threshold was set, on every destination.
func TestUsualText(t *testing.T) {
	usual := int64(120_000)
	learned := Summary{ServiceName: "llama", Status: StatusStalled, Phase: PhaseImagePull,
		StallThresholdMS: 12 * 60_000, StallThresholdLearned: true,
		Phases: []Phase{{Name: PhaseImagePull, Status: PhaseStalled, UsualMS: &usual, Samples: 5}}}
	const want = "image_pull usually takes 2m (median of 5 deployments); stall threshold 12m, learned from them"
	if got := usualText(learned); got != want {
		t.Fatalf("usualText = %q, want %q", got, want)
	}
	configured := learned
	configured.StallThresholdLearned = false
	configured.StallThresholdMS = 20 * 60_000
	configured.Phases = []Phase{{Name: PhaseImagePull, Status: PhaseStalled, Samples: 2}}
	if got := usualText(configured); !strings.Contains(got, "stall threshold 20m (STALL_THRESHOLDS): 2 successful deployments") {
		t.Fatalf("configured: %q", got)
	}
	if got := usualText(Summary{Phase: PhaseImagePull}); got != "" {
		t.Fatalf("no threshold: %q", got)
	}
	n := Notification{ID: "x", Kind: KindStalled, Summary: learned}
	blocks, _, _ := SlackBlocks(n)
	b, _ := json.Marshal(blocks)
	teams, _, _ := teamsCard(n)
	tb, _ := json.Marshal(teams)
	feishu, _, _ := feishuCardMessage(n)
	fb, _ := json.Marshal(feishu)
	md, _ := markdownWithin(n, wecomFlavor, 4096)
	var text bytes.Buffer
	_ = RenderText(&text, n, false)
	body, _, _ := webhookBody(n)
	for name, out := range map[string]string{"slack": string(b), "teams": string(tb), "feishu": string(fb), "wecom": md, "terminal": text.String()} {
		if !strings.Contains(out, want) {
			t.Errorf("%s does not say %q:\n%s", name, want, out)
		}
	}
	if !strings.Contains(string(body), `"usual_ms":120000`) || !strings.Contains(string(body), `"stall_threshold_ms":720000`) || !strings.Contains(string(body), `"stall_threshold_learned":true`) {
		t.Errorf("webhook body: %s", body)
	}
}
