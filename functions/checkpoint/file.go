package checkpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// File is a Store kept in one local JSON file: an object mapping each service
// id to its checkpoint. Every Save, and every SaveMany however many
// checkpoints it holds, rewrites the file once, atomically (a temporary file
// in the same directory, fsync, rename), so a crash leaves either the old
// file or the new one, never a torn one. LoadMany reads and parses the file
// once: a poll that loads with LoadMany and saves with SaveMany costs one
// read and one write whatever the number of services.
//
// Goroutines of one process are serialised by a mutex. Processes sharing the
// file are serialised by an advisory lock on path+".lock" (flock, on Unix),
// and Save compares versions with what is on disk at that moment, so a stale
// writer in another process fails with ErrConflict instead of overwriting.
//
// A missing file holds no checkpoints. A file that cannot be parsed is an
// error naming its path: the store never silently starts over.
type File struct {
	path string
	mu   sync.Mutex // guards the file within this process, and writes
	// writes counts successful saves.
	writes int
	// fileReads and fileWrites count reads and writes of the file, for
	// tests; beforeRename, when set (by tests), runs just before write
	// renames the new file into place.
	fileReads, fileWrites int
	beforeRename          func()
}

var _ Store = (*File)(nil)

// NewFile returns a store kept in the file at path, creating its parent
// directories. It reads the file once so that a corrupt file stops start-up.
func NewFile(path string) (*File, error) {
	if path == "" {
		return nil, errors.New("checkpoint file: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint file %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("checkpoint file %s: create directory: %w", abs, err)
	}
	f := &File{path: abs}
	if _, err := f.read(); err != nil {
		return nil, err
	}
	return f, nil
}

// Path returns the absolute path of the checkpoint file.
func (f *File) Path() string { return f.path }

// Load returns the service's checkpoint as stored in the file now.
func (f *File) Load(ctx context.Context, serviceID string) (Checkpoint, bool, error) {
	if err := ctx.Err(); err != nil {
		return Checkpoint{}, false, fmt.Errorf("load checkpoint of service %s: %w", serviceID, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	all, err := f.read()
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("load checkpoint of service %s: %w", serviceID, err)
	}
	cp, ok := all[serviceID]
	return cp, ok, nil
}

// Save writes cp if the version in the file equals cp.Version, and sets
// cp.Version to the new version. Other services' checkpoints are kept as they
// are on disk. It is SaveMany of one checkpoint.
func (f *File) Save(ctx context.Context, cp *Checkpoint) error {
	return f.SaveMany(ctx, []*Checkpoint{cp})[0]
}

// LoadMany returns the services' checkpoints as stored in the file now,
// reading and parsing it once.
func (f *File) LoadMany(ctx context.Context, serviceIDs []string) (map[string]Checkpoint, error) {
	if err := checkLoadMany(ctx, serviceIDs); err != nil {
		return nil, err
	}
	out := make(map[string]Checkpoint, len(serviceIDs))
	if len(serviceIDs) == 0 {
		return out, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	all, err := f.read()
	if err != nil {
		return nil, fmt.Errorf("load checkpoints of %d services: %w", len(serviceIDs), err)
	}
	for _, id := range serviceIDs {
		if cp, ok := all[id]; ok {
			out[id] = cp
		}
	}
	return out, nil
}

// SaveMany applies every checkpoint's conditional save, in order, to the
// file as it is on disk, under both locks, then writes the file once,
// atomically: one read and one write for the whole batch, and a crash
// leaves either none of the batch visible or all of it. When that write
// fails, every checkpoint that would have been saved reports the failure
// and keeps its Version. A batch in which nothing can be saved (all
// conflicts, say) does not write the file.
func (f *File) SaveMany(ctx context.Context, cps []*Checkpoint) []error {
	errs, todo := checkSaveMany(ctx, cps)
	if len(todo) == 0 {
		return errs
	}
	fail := func(err error) []error {
		for _, i := range todo {
			errs[i] = fmt.Errorf("save checkpoint of service %s: %w", cps[i].ServiceID, err)
		}
		return errs
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	unlock, err := lockFile(f.path + ".lock")
	if err != nil {
		return fail(fmt.Errorf("lock %s: %w", f.path, err))
	}
	defer unlock()

	all, err := f.read()
	if err != nil {
		return fail(err)
	}
	if all == nil {
		all = make(map[string]Checkpoint, len(todo))
	}
	saved := make([]int, 0, len(todo))
	versions := make([]int64, 0, len(todo))
	for _, i := range todo {
		cp := cps[i]
		if stored := all[cp.ServiceID].Version; stored != cp.Version {
			errs[i] = conflict(cp, stored)
			continue
		}
		next := *cp // only encoded below, never changed: no deep copy
		next.Version++
		all[cp.ServiceID] = next
		saved = append(saved, i)
		versions = append(versions, next.Version)
	}
	if len(saved) == 0 {
		return errs
	}
	if err := f.write(all); err != nil {
		todo = saved
		return fail(err)
	}
	f.writes += len(saved)
	for k, i := range saved {
		cps[i].Version = versions[k]
	}
	return errs
}

// Writes returns how many checkpoints Save and SaveMany saved (a SaveMany
// of many checkpoints writes the file once, and counts each).
func (f *File) Writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

// read parses the whole file; a missing file holds no checkpoints.
func (f *File) read() (map[string]Checkpoint, error) {
	f.fileReads++
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint file %s: %w", f.path, err)
	}
	var all map[string]Checkpoint
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&all); err != nil {
		return nil, fmt.Errorf("checkpoint file %s is corrupt (fix or remove it; it is never reset silently): %w", f.path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("checkpoint file %s is corrupt (fix or remove it; it is never reset silently): data after the JSON object", f.path)
	}
	if all == nil { // the file holds JSON null
		return nil, fmt.Errorf("checkpoint file %s is corrupt (fix or remove it; it is never reset silently): not a JSON object", f.path)
	}
	for id, cp := range all {
		if cp.ServiceID != id {
			return nil, fmt.Errorf("checkpoint file %s is corrupt (fix or remove it; it is never reset silently): entry %q holds service %q", f.path, id, cp.ServiceID)
		}
	}
	return all, nil
}

// write replaces the file atomically: a temporary file in the same directory
// is written, synced and renamed over the old one, then the directory is
// synced so that the rename itself survives a crash.
func (f *File) write(all map[string]Checkpoint) (err error) {
	data, err := encodeAll(all)
	if err != nil {
		return err
	}

	dir := filepath.Dir(f.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write checkpoint file %s: %w", f.path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write checkpoint file %s: %w", f.path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write checkpoint file %s: sync: %w", f.path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write checkpoint file %s: %w", f.path, err)
	}
	if f.beforeRename != nil {
		f.beforeRename()
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("write checkpoint file %s: %w", f.path, err)
	}
	syncDir(dir)
	f.fileWrites++
	return nil
}

// encodeAll is the file's content: exactly json.MarshalIndent(all, "",
// "  ") and a newline, built one checkpoint at a time, so that encoding
// 10,000 checkpoints never holds a second, unindented copy of the file
// (nor the encoder's buffers of the whole map).
func encodeAll(all map[string]Checkpoint) ([]byte, error) {
	ids := slices.Sorted(maps.Keys(all))
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, id := range ids {
		key, err := json.Marshal(id)
		if err != nil {
			return nil, fmt.Errorf("encode checkpoints: %w", err)
		}
		val, err := json.MarshalIndent(all[id], "  ", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode checkpoints: %w", err)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n  ")
		buf.Write(key)
		buf.WriteString(": ")
		buf.Write(val)
	}
	if len(ids) > 0 {
		buf.WriteByte('\n')
	}
	buf.WriteString("}\n")
	return buf.Bytes(), nil
}

// syncDir makes a rename in dir durable. It is best effort: some platforms
// and file systems cannot sync a directory, and the rename already happened.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
