package demo

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/eventsapi/eventsapitest"
	"github.com/modelarts-notifier/modelarts-notifier/functions/setup"
)

// Dir is the folder that holds the demo's checkpoints and scenario
// anchor: DEMO_STATE_DIR when set (make run-rie gives the emulator's demo
// its own, so that it does not find make run's checkpoints and answer
// that nothing is new), else the dot-folder .modelarts-notifier of the
// working directory.
var Dir = cmp.Or(os.Getenv("DEMO_STATE_DIR"), ".modelarts-notifier")

// Demo is a running simulated ModelArts.
type Demo struct {
	Server *eventsapitest.Server
	// ServiceIDs are the demo's services, in the order described above.
	ServiceIDs []string
	Anchor     time.Time
}

// The demo's services.
var services = []struct{ id, name string }{
	{"a1b2c3d4-0001-4000-8000-000000000001", "resnet50-classifier"},
	{"a1b2c3d4-0002-4000-8000-000000000002", "bert-ner"},
	{"a1b2c3d4-0003-4000-8000-000000000003", "llama2-chat"},
	{"a1b2c3d4-0004-4000-8000-000000000004", "yolo-detector"},
}

// serviceV2 is the demo's new-version (v2 API) service.
var serviceV2 = struct{ id, name string }{"a1b2c3d4-0005-4000-8000-000000000005", "qwen-72b-chat"}

// Start starts the simulated ModelArts. Configure points a configuration
// at it; the process environment is never changed.
func Start(ctx context.Context, log *slog.Logger) (*Demo, error) {
	anchor, err := loadAnchor(time.Now())
	if err != nil {
		return nil, err
	}
	srv := eventsapitest.NewServer(eventsapitest.WithProjectID("de000000000000000000000000000001"))
	d := &Demo{Server: srv, Anchor: anchor}
	for _, s := range services {
		srv.AddService(s.id, s.name, eventsapi.StatusDeploying)
		d.ServiceIDs = append(d.ServiceIDs, s.id)
	}
	step := 15 * time.Second
	srv.DeploySuccess(services[0].id, "ResNet50 1.2.0", anchor, step)
	srv.DeployFailure(services[1].id, "BERT-NER 2.0", eventsapitest.PhaseScheduling, anchor.Add(5*time.Minute), step)
	srv.DeployStall(services[2].id, "Llama2-7B 1.0", eventsapitest.PhaseImagePull, anchor.Add(10*time.Minute), step)
	srv.DeploySuccess(services[3].id, "YOLOv8 8.1", anchor.Add(-5*time.Hour), step)
	srv.RuntimeAbnormal(services[3].id, "Instance yolo-detector-7f9c restarted: the model process exited (out of memory).", anchor.Add(20*time.Minute))
	// A new-version (v2) service whose scheduling stalls: its pod events
	// say why (no free GPU), and ModelArts fails it after its timeout.
	srv.AddServiceV2(serviceV2.id, serviceV2.name, "DEPLOYING")
	srv.SetDeployTimeout(serviceV2.id, 90)
	srv.DeployStallV2(serviceV2.id, "Qwen2.5-72B 1.0", eventsapitest.PhaseScheduling, anchor.Add(15*time.Minute), step)
	d.ServiceIDs = append(d.ServiceIDs, serviceV2.id)
	log.Debug("demo ModelArts started", "url", srv.URL, "anchor", anchor)
	return d, nil
}

// CheckpointFile is the demo's checkpoint file.
var CheckpointFile = filepath.Join(Dir, "demo-checkpoints.json")

// Configure points c at the simulated ModelArts: its endpoint, project and
// token; every other kind of credentials, the service list and the secret
// are cleared. Slack and webhook settings are left alone, so the demo posts
// there too when they are set.
func (d *Demo) Configure(c *setup.Common) {
	c.Endpoint = d.Server.URL
	c.ProjectID = d.Server.ProjectID
	c.Token = setup.Secret(d.Server.Token)
	c.ServiceIDs = nil
	c.SecretsARN = ""
	c.DomainName, c.Username, c.Password = "", "", ""
	c.AccessKey, c.SecretKey, c.SecurityToken = "", "", ""
}

// Close stops the simulated ModelArts.
func (d *Demo) Close() { d.Server.Close() }

type anchorFile struct {
	Anchor time.Time `json:"anchor"`
}

// loadAnchor returns the scenario's anchor: kept from an earlier run while
// the demo's checkpoints exist, else now minus 50 minutes (so that, at now,
// the stalled image pull has been idle longer than its threshold and every
// event is within the first-run lookback of one hour).
func loadAnchor(now time.Time) (time.Time, error) {
	path := filepath.Join(Dir, "demo-scenario.json")
	_, cpErr := os.Stat(CheckpointFile)
	if b, err := os.ReadFile(path); err == nil && cpErr == nil {
		var a anchorFile
		if err := json.Unmarshal(b, &a); err != nil || a.Anchor.IsZero() {
			return time.Time{}, fmt.Errorf("%s is corrupt; delete the folder %s to start the demo afresh", path, Dir)
		}
		return a.Anchor, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, err
	}
	a := anchorFile{Anchor: now.Add(-50 * time.Minute).UTC().Truncate(time.Second)}
	if err := os.MkdirAll(Dir, 0o755); err != nil {
		return time.Time{}, err
	}
	b, _ := json.Marshal(a)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return time.Time{}, err
	}
	return a.Anchor, nil
}

// ForPoller starts the demo for the poller: what points its configuration
// at the simulated ModelArts (with a file checkpoint in Dir), and what stops
// it.
func ForPoller(ctx context.Context, log *slog.Logger) (func(*setup.Poller), func(), error) {
	if _, err := os.Stat(CheckpointFile); err == nil {
		log.Info("demo: checkpoints of an earlier run are kept: only what is new since then is reported; delete the folder to start afresh", "dir", Dir)
	}
	d, err := Start(ctx, log)
	if err != nil {
		return nil, nil, err
	}
	return func(c *setup.Poller) {
		d.Configure(&c.Common)
		c.CheckpointTable, c.CheckpointFile = "", CheckpointFile
	}, d.Close, nil
}

// ForReport starts the demo for the report function: what points its
// configuration at the simulated ModelArts, the demo's first service, and
// what stops it.
func ForReport(ctx context.Context, log *slog.Logger) (func(*setup.Report), string, func(), error) {
	d, err := Start(ctx, log)
	if err != nil {
		return nil, "", nil, err
	}
	return func(c *setup.Report) { d.Configure(&c.Common) }, d.ServiceIDs[0], d.Close, nil
}
